"""Graceful shutdown with the real processes, as Kubernetes stops a pod: SIGTERM.

The API stops taking connections and finishes the requests in flight; the worker takes no new
job, finishes those in hand within its grace, and hands back any that take longer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
from arq.jobs import JobStatus

from motcua.app import create_app
from motcua.auth.models import Role
from motcua.queue import connect
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import read_pack
from tests.conftest import FIXTURE_PACK
from tests.running import running


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(settings, queue_name: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    return env | {
        "MOTCUA_DATABASE_URL": settings.database_url,
        "MOTCUA_REDIS_URL": settings.redis_url,
        "MOTCUA_SECRET_KEYS": ",".join(settings.secret_keys),
        "MOTCUA_ENVIRONMENT": "test",
        "MOTCUA_QUEUE_NAME": queue_name,
        "MOTCUA_LOG_LEVEL": "WARNING",
        **extra,
    }


@contextlib.contextmanager
def motcua(*args: str, env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "motcua.cli", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return True
    return False


async def test_the_api_stops_taking_connections_and_finishes_requests_in_flight_on_sigterm(
    settings, make_tenant, make_key, tmp_path
):
    province = await make_tenant()
    admin = await make_key(Role.ADMIN, province)
    port = _free_port()
    env = _environment(
        settings,
        f"{settings.queue_name}:serve",
        MOTCUA_PORT=str(port),
        MOTCUA_PLATFORM_HOSTS="127.0.0.1",
    )
    with motcua("serve", "--grace", "10", env=env, cwd=tmp_path) as server:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[1]
            with contextlib.suppress(httpx.TransportError):
                ready = await asyncio.to_thread(
                    httpx.get, f"http://127.0.0.1:{port}/readyz", timeout=1
                )
                if ready.status_code == 200:
                    break
            assert time.monotonic() < deadline, "not ready within 30 s"
            await asyncio.sleep(0.1)

        refused_during_request = []

        def body() -> Iterator[bytes]:
            # Half the body is sent, then the pod is told to stop, then the rest follows.
            yield b'{"role": "officer", '
            server.send_signal(signal.SIGTERM)
            until = time.monotonic() + 5
            while not _refuses(port) and time.monotonic() < until:
                time.sleep(0.05)
            refused_during_request.append(_refuses(port))
            yield b'"name": "sent while the pod stops"}'

        def post() -> httpx.Response:
            return httpx.post(
                f"http://127.0.0.1:{port}/t/{province.slug}/api/v1/keys",
                headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
                content=body(),
                timeout=15,
            )

        response = await asyncio.to_thread(post)
        assert refused_during_request == [True]  # no new connection once SIGTERM arrived
        assert response.status_code == 201, response.text
        assert response.json()["name"] == "sent while the pod stops"
        _, err = await asyncio.to_thread(server.communicate, timeout=20)
    assert server.returncode == 0, err


@pytest.fixture
async def desk(settings, db, make_key) -> AsyncIterator[object]:
    """A province whose notices go to the console, and an app on a queue of this test's own."""
    import secrets

    queue_name = f"{settings.queue_name}:stop-{secrets.token_hex(3)}"
    own = msgspec.structs.replace(settings, queue_name=queue_name)
    pack = read_pack(FIXTURE_PACK)
    slug = f"p-{secrets.token_hex(3)}"
    tenant = msgspec.structs.replace(
        pack.tenant,
        slug=slug,
        domains=[f"{slug}.example.vn"],
        channels={"order": ["console"], "console": {}},
    )
    await apply_pack(db, msgspec.structs.replace(pack, tenant=tenant))
    async with running(create_app(own)) as app:
        async with db.platform_session() as session:
            from sqlalchemy import select

            from motcua.tenancy.models import Tenant

            tenant_id = (await session.scalars(select(Tenant.id).where(Tenant.slug == slug))).one()
        from tests.conftest import Province

        officer = await make_key(Role.OFFICER, Province(tenant_id, slug, f"{slug}.example.vn"))
        transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
            response = await c.post(
                f"/t/{slug}/api/v1/dossiers",
                headers={"Authorization": f"Bearer {officer}"},
                json={
                    "procedure_code": "1.000894",
                    "applicant": {"full_name": "Phạm Văn Bình", "phone": "0912345678"},
                },
            )
            assert response.status_code == 201, response.text
        queue = await connect(settings.redis_url, queue_name)
        try:
            yield msgspec.structs.replace(own), tenant_id, queue
        finally:
            await queue.delete(queue_name, f"{queue_name}:bulk")
            await queue.aclose()


async def _the_only_notice(conn: asyncpg.Connection, tenant_id) -> asyncpg.Record:
    [row] = await conn.fetch("SELECT id, status FROM notices WHERE tenant_id = $1", tenant_id)
    return row


async def _waiting_on_a_row(process: subprocess.Popen[str], watch: asyncpg.Connection) -> bool:
    """Whether the process (alive) waits on a row lock. `watch` is another connection than
    the lock's: inside the lock's transaction the view would not change."""
    assert process.poll() is None, process.communicate()[1]
    waiting = await watch.fetchval(
        """SELECT count(*) FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'"""
    )
    return waiting > 0


async def _until(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("outcome", ["finished within the grace", "handed back after it"])
async def test_the_worker_takes_no_new_job_and_finishes_or_hands_back_its_own_on_sigterm(
    settings, database_url, desk, tmp_path, outcome
):
    own, tenant_id, queue = desk
    conn = await asyncpg.connect(database_url)  # the owner: it sees past row-level security
    watch = await asyncpg.connect(database_url)
    try:
        notice = await _the_only_notice(conn, tenant_id)
        assert notice["status"] == "created"
        # Hold the notice's row: the worker's delivery job waits on it, in hand.
        lock = conn.transaction()
        await lock.start()
        await conn.execute("SELECT 1 FROM notices WHERE id = $1 FOR UPDATE", notice["id"])

        grace = "10" if outcome == "finished within the grace" else "1"
        alive = tmp_path / "alive"
        env = _environment(settings, own.queue_name)
        args = ("worker", "--grace", grace, "--health-file", str(alive))
        with motcua(*args, env=env, cwd=tmp_path) as worker:
            await _until(lambda: _waiting_on_a_row(worker, watch))
            # What the pod's liveness probe runs.
            probe = await asyncio.to_thread(
                subprocess.run,
                [
                    sys.executable,
                    "-m",
                    "motcua.cli",
                    "worker",
                    "--check",
                    "--health-file",
                    f"{alive}",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert probe.returncode == 0, probe.stderr

            worker.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            # Queued after the signal: the stopping worker must leave it for another.
            later = await queue.enqueue_job("heartbeat", _job_id=f"later-{notice['id']}")
            assert later is not None

            if outcome == "finished within the grace":
                await asyncio.sleep(1.0)
                assert worker.poll() is None  # still finishing the job in hand
                await lock.commit()
                _, err = await asyncio.to_thread(worker.communicate, timeout=20)
                assert worker.returncode == 0, err
                assert (await _the_only_notice(conn, tenant_id))["status"] == "sent"
            else:
                # The job outlives the grace: the worker stops anyway, without it.
                _, err = await asyncio.to_thread(worker.communicate, timeout=20)
                assert worker.returncode == 0, err
                await lock.rollback()
                # Nothing half-written, and the job is back on the queue for another worker
                # (whose relay sends the notice again).
                assert (await _the_only_notice(conn, tenant_id))["status"] == "created"
                # Its turn is queued again, beside the job queued after the signal (and the
                # relay's next run): another worker takes it, or the relay sends the notice.
                queued = [j.decode() for j in await queue.zrange(own.queue_name, 0, -1)]
                jobs = [j for j in queued if not j.startswith("cron:")]
                assert f"later-{notice['id']}" in jobs
                # Besides it: the turn (an arq job id), and on a slow machine the relay's
                # jobs for the same notice, which also waited on its row and were handed back.
                handed_back = [j for j in jobs if j != f"later-{notice['id']}"]
                assert any(re.fullmatch(r"[0-9a-f]{32}", j) for j in handed_back), jobs
                for job in handed_back:
                    assert re.fullmatch(r"[0-9a-f]{32}", job) or job.startswith(
                        f"deliver:{notice['id']}:"
                    ), jobs
                for job in jobs:
                    assert await queue.exists(f"arq:in-progress:{job}") == 0

        assert await later.status() == JobStatus.queued
        assert not alive.exists()  # the probe file goes with the worker
    finally:
        await conn.close()
        await watch.close()


async def test_serve_with_its_worker_lets_the_job_in_hand_finish_on_sigterm(
    settings, database_url, desk, tmp_path
):
    """`make run`'s process: after the requests in flight, its worker's jobs get the grace."""
    own, tenant_id, _ = desk
    conn = await asyncpg.connect(database_url)
    watch = await asyncpg.connect(database_url)
    try:
        notice = await _the_only_notice(conn, tenant_id)
        lock = conn.transaction()
        await lock.start()
        await conn.execute("SELECT 1 FROM notices WHERE id = $1 FOR UPDATE", notice["id"])
        env = _environment(settings, own.queue_name, MOTCUA_PORT=str(_free_port()))
        with motcua("serve", "--with-worker", "--grace", "10", env=env, cwd=tmp_path) as server:
            await _until(lambda: _waiting_on_a_row(server, watch), timeout=30)
            server.send_signal(signal.SIGTERM)
            await asyncio.sleep(1.5)
            assert server.poll() is None  # still finishing the delivery in hand
            await lock.commit()
            _, err = await asyncio.to_thread(server.communicate, timeout=30)
            assert server.returncode == 0, err
        assert (await _the_only_notice(conn, tenant_id))["status"] == "sent"
    finally:
        await conn.close()
        await watch.close()
