"""Settings: one typed object read from ``MOTCUA_`` environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

PREFIX = "MOTCUA_"


class SettingsError(Exception):
    """A setting has a value the service cannot start with; the message is one line."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # Unset addresses mean "start the embedded servers under data_dir".
    database_url: str | None = None
    # The schema owner's login, for migrations only (`db upgrade`, `serve --upgrade`). Set it
    # and let database_url log in as database_role itself: the service then holds no
    # credentials that could step out of its role (undo row-level security, rewrite the
    # audit log); `db upgrade` lets that role log in, with database_url's password. Unset:
    # migrations use database_url, and the service steps into its role after logging in.
    database_owner_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    # Hosts that serve the platform itself; any other host is looked up as a tenant domain.
    platform_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    public_base_url: str = ""
    # The role the service runs as; migrations create it. Never the owner, never superuser.
    database_role: str = "motcua_app"
    database_pool_size: int = 10
    max_body_bytes: int = 1_048_576
    queue_name: str = "motcua:queue"
    worker_concurrency: int = 100  # jobs a worker process runs at once
    # Connections a worker process holds to providers (sends in flight at once), in pools of
    # four: a provider answering in 200 ms takes about 5 sends a second on each.
    provider_connections: int = 32
    # A notice "sending" for longer lost its worker: the relay sends it again.
    notice_stuck_seconds: int = 120
    # Fernet keys for secrets at rest, newest first (comma-separated): rotation adds a key in
    # front and keeps the old ones until everything is re-encrypted. Unset in development: a
    # key is made under data_dir.
    secret_keys: tuple[str, ...] = ()
    # Keys that sign staff sessions (HMAC), newest first (comma-separated): the first signs,
    # all verify. Unset in development: a key is made under data_dir.
    session_keys: tuple[str, ...] = ()
    # Platform operators sign in at the platform's own OpenID provider; the ID token must
    # carry operator_oidc_role_value in the claim operator_oidc_role_claim.
    operator_oidc_issuer: str = ""
    operator_oidc_client_id: str = ""
    operator_oidc_client_secret: str = ""
    operator_oidc_role_claim: str = "roles"
    operator_oidc_role_value: str = "operator"
    # Public catalogue answers are cached in each process this long; 0 turns caching off.
    response_cache_seconds: int = 60
    # Requests a minute: per client address on public routes (tracking has its own, 60), and
    # per API key or session on staff and platform routes. 0 turns a limit off.
    rate_limit_public_per_minute: int = 600
    rate_limit_caller_per_minute: int = 6000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    environment: Literal["development", "production", "test"] = "development"

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, not {self.port}")
        if not 0 <= self.response_cache_seconds <= 3600:
            raise ValueError("response_cache_seconds must be between 0 and 3600")
        if self.max_body_bytes < 1024:
            raise ValueError("max_body_bytes must be at least 1024")
        if self.environment == "production" and not self.secret_keys:
            raise ValueError("secret_keys must be set in production")
        if self.environment == "production" and not self.session_keys:
            raise ValueError("session_keys must be set in production")
        if any(len(key) < 32 for key in self.session_keys):
            raise ValueError("each of session_keys must have at least 32 characters")
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.database_role):
            raise ValueError("database_role must be a plain lower-case SQL identifier")
        if self.database_owner_url and not self.database_url:
            raise ValueError("database_owner_url needs database_url, the service's own login")
        if self.database_owner_url and self.database_url:
            login = urlsplit(self.database_url).username
            if login != self.database_role:
                raise ValueError(
                    f"database_url must log in as {self.database_role} (database_role) when "
                    "database_owner_url is set"
                )
        if self.database_pool_size < 1:
            raise ValueError("database_pool_size must be at least 1")
        if self.provider_connections < 1:
            raise ValueError("provider_connections must be at least 1")
        for name, url, schemes in (
            ("database_url", self.database_url, ("postgresql", "postgres")),
            ("database_owner_url", self.database_owner_url, ("postgresql", "postgres")),
            ("redis_url", self.redis_url, ("redis", "rediss", "unix")),
        ):
            if url is not None and url.split("://", 1)[0].split("+", 1)[0] not in schemes:
                raise ValueError(f"{name} must start with one of {', '.join(schemes)}://")

    @property
    def base_url(self) -> str:
        """Where the platform host is reached from outside, for links on receipts."""
        return self.public_base_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def https(self) -> bool:
        """Whether citizens and staff reach the platform over TLS."""
        return self.public_base_url.startswith("https://")


_FIELDS = msgspec.structs.fields(Settings)
_LISTS = {"platform_hosts", "secret_keys", "session_keys"}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read settings from the environment; a bad value raises SettingsError with one line."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for field in _FIELDS:
        value = environ.get(PREFIX + field.name.upper())
        if value is None or value == "":
            continue
        raw[field.name] = value.split(",") if field.name in _LISTS else value
    raw.update(overrides)
    try:
        return msgspec.convert(raw, Settings, strict=False, dec_hook=_decode)
    except (msgspec.ValidationError, ValueError) as exc:
        raise SettingsError(_explain(str(exc))) from None


def _decode(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(kind)


def _explain(message: str) -> str:
    # msgspec says "... - at `$.port`"; name the environment variable instead.
    if " - at `$." in message:
        text, where = message.rsplit(" - at `$.", 1)
        return f"{PREFIX}{where.rstrip('`').upper()}: {text}"
    return f"invalid settings: {message}"
