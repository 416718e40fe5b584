"""PostgreSQL or Redis going away while serving: 503 problems, then recovery by itself."""

import asyncio
from urllib.parse import urlsplit

import httpx
import msgspec
import pytest
from sqlalchemy.engine import make_url

from motcua.app import create_app
from motcua.auth.models import Role
from tests.proxy import Proxy
from tests.running import running


@pytest.fixture
async def cut_off_app(settings):
    """The app reaching PostgreSQL and Redis through proxies the test can cut."""
    db_url = make_url(settings.database_url)
    socket_dir = db_url.query.get("host")
    db_proxy = Proxy(
        f"{socket_dir}/.s.PGSQL.5432" if socket_dir else (db_url.host, db_url.port or 5432)
    )
    redis_target = urlsplit(settings.redis_url)
    redis_proxy = Proxy(
        redis_target.path
        if redis_target.scheme == "unix"
        else (redis_target.hostname, redis_target.port or 6379)
    )
    await db_proxy.start()
    await redis_proxy.start()
    proxied_db = db_url.set(host="127.0.0.1", port=db_proxy.port, query={})
    proxied = msgspec.structs.replace(
        settings,
        database_url=proxied_db.render_as_string(hide_password=False),
        redis_url=f"redis://127.0.0.1:{redis_proxy.port}/0",
    )
    app = create_app(proxied)
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client, db_proxy, redis_proxy


async def _eventually(check, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
        else:
            return result


async def test_database_outage_gives_503_then_recovers(cut_off_app, make_key):
    client, db_proxy, _ = cut_off_app
    operator = {"Authorization": f"Bearer {await make_key(Role.OPERATOR)}"}
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.get("/api/v1/platform/tenants", headers=operator)).status_code == 200

    await db_proxy.cut()
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["content-type"].startswith("application/problem+json")
    assert ready.json()["checks"]["database"] != "ok"
    assert ready.json()["checks"]["redis"] == "ok"
    # Liveness never touches the database: a database outage restarts no pod.
    assert (await client.get("/healthz")).status_code == 200
    down = await client.get("/api/v1/platform/tenants", headers=operator)
    assert down.status_code == 503
    assert "PostgreSQL" in down.json()["detail"]

    await db_proxy.start()

    async def recovered():
        response = await client.get("/api/v1/platform/tenants", headers=operator)
        assert response.status_code == 200, response.text

    await _eventually(recovered)
    assert (await client.get("/readyz")).status_code == 200


async def test_redis_outage_shows_in_readiness_then_recovers(cut_off_app):
    client, _, redis_proxy = cut_off_app
    await redis_proxy.cut()
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "redis": ready.json()["checks"]["redis"]}
    assert ready.json()["checks"]["redis"] != "ok"
    assert (await client.get("/healthz")).status_code == 200
    await redis_proxy.start()

    async def recovered():
        assert (await client.get("/readyz")).status_code == 200

    await _eventually(recovered)
