"""Migrations glue: run Alembic from the CLI and give migrations their tenancy helpers."""

from __future__ import annotations

from pathlib import Path

from alembic import command, op
from alembic.config import Config

from motcua.db.session import TENANT_SETTING, asyncpg_url

_PACKAGE = Path(__file__).resolve().parents[1]
# In a checkout the scripts sit at the repository root; a wheel carries them in the package.
MIGRATIONS = next(
    path
    for path in (_PACKAGE / "migrations", _PACKAGE.parents[1] / "migrations")
    if (path / "env.py").exists()
)

CURRENT_TENANT = f"NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid"


def alembic_config(database_url: str, app_role: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = asyncpg_url(database_url)
    config.attributes["app_role"] = app_role
    return config


def upgrade(database_url: str, app_role: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url, app_role), revision)


def app_role() -> str:
    """The application role, inside a migration script."""
    role: str = op.get_context().config.attributes["app_role"]  # type: ignore[union-attr]
    return role  # a plain identifier: Settings checks it


def enable_tenant_isolation(table: str) -> None:
    """Forced row-level security: even the table owner sees only the current tenant's rows."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )
