"""Migrations glue: run Alembic from the CLI and give migrations their tenancy helpers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg
from alembic import command, op
from alembic.config import Config

from motcua.db.passwords import scram_verifier
from motcua.db.session import TENANT_SETTING, asyncpg_url, plain_url

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


def allow_login(owner_url: str, service_url: str, role: str) -> None:
    """Let the application role log in, with the service's password: with its own login the
    service cannot step out of the role (RESET ROLE, SET ROLE NONE) into the owner's."""
    password = urlsplit(service_url).password

    async def alter() -> None:
        connection = await asyncpg.connect(plain_url(owner_url))
        try:
            # The verifier, not the password: the statement may be logged (db/passwords.py).
            statement = await connection.fetchval(
                "SELECT CASE WHEN $2::text IS NULL THEN format('ALTER ROLE %I LOGIN', $1::text)"
                " ELSE format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) END",
                role,
                scram_verifier(unquote(password)) if password is not None else None,
            )
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(alter())


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
