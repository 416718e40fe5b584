"""Test fixtures: a fresh PostgreSQL database per run, the real Redis, the real app."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.engine import make_url

from motcua.app import create_app
from motcua.auth.models import Role
from motcua.auth.service import KeyService
from motcua.db import Database
from motcua.db.migrate import upgrade
from motcua.embedded import embedded_servers
from motcua.settings import Settings, load_settings
from motcua.tenancy.models import Tenant, TenantDomain
from tests.running import running

ROOT = Path(__file__).resolve().parents[1]


def _answers(port: int) -> bool:
    if os.environ.get("MOTCUA_TEST_EMBEDDED"):  # to try what a machine without them does
        return False
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[str, str]]:
    """PostgreSQL and Redis: as configured, else the local ones, else embedded under var/."""
    pg = os.environ.get("MOTCUA_TEST_DATABASE_URL") or (
        "postgresql://postgres@127.0.0.1:5432/postgres" if _answers(5432) else None
    )
    rd = os.environ.get("MOTCUA_TEST_REDIS_URL") or (
        "redis://127.0.0.1:6379/0" if _answers(6379) else None
    )
    with embedded_servers(ROOT / "var" / "test-servers", postgres=pg is None, redis=rd is None) as (
        embedded_pg,
        embedded_rd,
    ):
        yield (pg or str(embedded_pg), rd or str(embedded_rd))


@pytest.fixture(scope="session")
def database_url(servers: tuple[str, str]) -> Iterator[str]:
    """A database of its own for this run, migrated, dropped afterwards."""
    server = make_url(servers[0]).set(drivername="postgresql")
    name = f"motcua_test_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        dsn = server.set(database="postgres").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url, "motcua_app")
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(database_url: str, servers: tuple[str, str]) -> Settings:
    return load_settings(
        {},
        database_url=database_url,
        redis_url=servers[1],
        queue_name=f"motcua:test:{secrets.token_hex(4)}",
        environment="test",
        platform_hosts=["testserver.local", "127.0.0.1", "localhost"],
        secret_keys=[Fernet.generate_key().decode()],
    )


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database.for_settings(settings, pool_size=5)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    """One running app for the whole run, on the tests' own event loop."""
    async with running(create_app(settings)) as application:
        yield application


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    # Each test is its own client address, with its own share of the public rate limits.
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


@dataclass
class Province:
    id: uuid.UUID
    slug: str
    domain: str


@pytest.fixture
async def make_tenant(db: Database, app: Litestar) -> AsyncIterator[object]:
    """Creates provinces with unique slugs; they stay (each test run has its own database)."""

    async def make(slug: str | None = None) -> Province:
        slug = slug or f"p-{secrets.token_hex(3)}"
        domain = f"{slug}.example.gov.vn"
        async with db.platform_session() as session:
            tenant = Tenant(
                slug=slug,
                name=f"Tỉnh {slug}",
                province_code="99",
                timezone="Asia/Ho_Chi_Minh",
                locale="vi",
            )
            tenant.domains = [TenantDomain(domain=domain)]
            session.add(tenant)
            await session.commit()
        app.state.services.directory.invalidate()
        return Province(id=tenant.id, slug=slug, domain=domain)

    yield make


@pytest.fixture
def make_key(db: Database) -> object:
    async def make(role: Role, tenant: Province | None = None) -> str:
        async with db.platform_session() as session:
            _, plaintext = await KeyService(session).create(
                role=role, tenant_id=tenant.id if tenant else None
            )
            await session.commit()
        return plaintext

    return make


FIXTURE_PACK = Path(__file__).parent / "fixtures" / "packs" / "tinh-thu"


@pytest.fixture
def onboard(db: Database, app: Litestar) -> object:
    """Onboards the small test pack (or a changed copy) under a fresh slug."""
    import msgspec

    from motcua.tenancy.onboarding import apply_pack
    from motcua.tenancy.packs import read_pack

    async def make(slug: str | None = None, **changes: object) -> Province:
        pack = read_pack(FIXTURE_PACK)
        slug = slug or f"p-{secrets.token_hex(3)}"
        tenant = msgspec.structs.replace(pack.tenant, slug=slug, domains=[f"{slug}.example.vn"])
        pack = msgspec.structs.replace(pack, tenant=tenant, **changes)
        await apply_pack(db, pack)
        app.state.services.directory.invalidate()
        async with db.platform_session() as session:
            tenant_id = (await session.scalars(select(Tenant.id).where(Tenant.slug == slug))).one()
        return Province(id=tenant_id, slug=slug, domain=f"{slug}.example.vn")

    return make
