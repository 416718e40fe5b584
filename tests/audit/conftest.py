from tests.dossiers.conftest import desk

__all__ = ["desk"]
