"""The engine and the two kinds of session: tenant-scoped and platform."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

from motcua.db.base import TenantOwned
from motcua.settings import Settings

TENANT_SETTING = "motcua.tenant_id"
# Sets the tenant row-level security sees, for the current transaction only.
SET_TENANT = text(f"select set_config('{TENANT_SETTING}', :tenant, true)")


class TenantScopedSession(Session):
    """A session whose every transaction first sets the tenant for row-level security."""


@event.listens_for(TenantScopedSession, "after_begin")
def _set_tenant(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    # Transaction-scoped (is_local = true): the setting dies with the transaction, so a
    # pooled connection never carries one province's id into the next request.
    tenant = session.info.get("tenant_id")
    connection.execute(SET_TENANT, {"tenant": str(tenant) if tenant else ""})


@event.listens_for(TenantScopedSession, "before_flush")
def _stamp_tenant(session: Session, _context: Any, _instances: Any) -> None:
    # New tenant-owned rows take the session's tenant: nobody sets tenant_id by hand.
    tenant = session.info.get("tenant_id")
    for row in session.new:
        if isinstance(row, TenantOwned) and row.tenant_id is None:
            if tenant is None:
                raise RuntimeError(f"{type(row).__name__} added outside a tenant session")
            row.tenant_id = tenant


def asyncpg_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql+asyncpg://{rest}" if "+" not in scheme else url


def plain_url(url: str) -> str:
    """The address as asyncpg itself reads it (no SQLAlchemy driver suffix)."""
    return "postgresql://" + url.split("://", 1)[1]


class Database:
    """The service's database: connects, then acts as the unprivileged application role."""

    def __init__(self, url: str, *, role: str, pool_size: int = 10) -> None:
        self._url, self._role, self._pool_size = url, role, pool_size
        self._reader: asyncpg.Pool | None = None
        # As many as the engine's pool with its overflow.
        self._reader_size = 2 * pool_size
        # Callers wait for a reader connection in arrival order. asyncpg's own queue lets a
        # newcomer take the connection a waiter was woken for: under load some requests
        # lost that race again and again (public tracking's p99 was four times its median).
        self._reader_turns = asyncio.Semaphore(self._reader_size)
        self._reader_opening = asyncio.Lock()
        self.engine: AsyncEngine = create_async_engine(
            asyncpg_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            # No pre-ping: it costs three round trips a request. A connection broken by a
            # database restart fails one request (a 503 problem) and is replaced.
            pool_recycle=1800,
            # A failed statement's error names no values: they may be citizens' data.
            hide_parameters=True,
            # The role as a startup parameter: it is the session's default, so no rollback,
            # RESET ROLE or RESET ALL on a pooled connection can fall back to the login user.
            connect_args={"server_settings": {"role": role}},
        )

        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=TenantScopedSession
        )

    @classmethod
    def for_settings(cls, settings: Settings, pool_size: int | None = None) -> Database:
        """The service's database as the settings describe it (addresses resolved)."""
        assert settings.database_url, "resolve the database address first"
        return cls(
            settings.database_url,
            role=settings.database_role,
            pool_size=pool_size or settings.database_pool_size,
        )

    def tenant_session(self, tenant_id: uuid.UUID) -> AsyncSession:
        """A session that sees and writes only this province's rows."""
        return self._sessions(info={"tenant_id": tenant_id})

    def platform_session(self) -> AsyncSession:
        """A session for platform tables; it sees no tenant-owned row at all."""
        return self._sessions(info={"tenant_id": None})

    async def read_row(self, query: str, *args: Any) -> asyncpg.Record | None:
        """One row through a plain asyncpg connection, as the same role: for the hot read
        paths that skip the ORM (public tracking)."""
        pool = await self._reader_pool()
        async with self._reader_turns:
            row: asyncpg.Record | None = await pool.fetchrow(query, *args)
            return row

    async def _reader_pool(self) -> asyncpg.Pool:
        if self._reader is not None:
            return self._reader
        async with self._reader_opening:
            if self._reader is None:
                self._reader = await asyncpg.create_pool(
                    plain_url(self._url),
                    min_size=1,
                    max_size=self._reader_size,
                    server_settings={"role": self._role},
                    reset=_keep_session,
                )
        return self._reader

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("select 1"))

    async def dispose(self) -> None:
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        await self.engine.dispose()


async def _keep_session(_: asyncpg.Connection) -> None:
    """The reader's release: asyncpg still rolls back an open transaction, but skips its
    RESET ALL round trip. Nothing run on the reader leaves session state behind (the
    tracking function sets the tenant for its own transaction only)."""


def current_tenant(session: AsyncSession) -> uuid.UUID:
    """The tenant a session is scoped to, for bulk inserts that bypass the ORM's stamping."""
    tenant: uuid.UUID | None = session.info.get("tenant_id")
    if tenant is None:
        raise RuntimeError("not a tenant session")
    return tenant
