"""Secrets at rest: Fernet (AES with an HMAC), with key rotation.

MOTCUA_SECRET_KEYS lists keys newest first: the first encrypts, all decrypt. To rotate, put
a new key in front, restart, re-save what matters (tokens are rewritten at every refresh),
then drop the old key.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from motcua.settings import Settings


class Vault:
    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    @classmethod
    def for_settings(cls, settings: Settings) -> Vault:
        if settings.secret_keys:
            return cls(list(settings.secret_keys))
        # Development: one key kept beside the embedded servers' data.
        path = settings.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(Fernet.generate_key())
            path.chmod(0o600)
        return cls([Path(path).read_text().strip()])

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def rotate(self, token: bytes) -> bytes | None:
        """The same secret encrypted with the newest key; None if no key opens it."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            return None

    def decrypt(self, token: bytes) -> str | None:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            return None
