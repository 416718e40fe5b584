"""Figures of the conversations issue: Zalo webhooks accepted, and look-ups answered by chat.

    .venv/bin/python bench/conversations.py [--clients 32] [--seconds 15] [--rate 10] \
        [--lookups 300]

One province onboarded into a fresh database of the local PostgreSQL (a synthetic pack, its
channel plan Zalo only, pointing at the Zalo stand-in: a real HTTP server on loopback, in
this process; secrets as `env:` references, as a pack writes them), one `motcua serve`
process, and the local Redis. Dossiers to look up are taken in first over HTTP with an
officer key of the province.

1. Look-ups, end to end (measured first, with one `motcua worker` process running). At a
   steady rate, a citizen's signed Zalo text "tra cứu <code>" is posted to
   POST /t/{slug}/hooks/zalo; the hook stores it, the worker handles it and sends the reply
   through the notice pipeline to the stand-in's OA message API. For each look-up, the time
   from just before its post to the stand-in receiving the reply: p50 and p95, and how many
   replies named the right dossier. Each look-up comes from a citizen of its own, as from a
   crowd (one citizen sending more than 10 a minute is asked to wait: conversations/).
   Target: p95 under 1 s. The pack lets the province send 100 Zalo messages a second
   (`[channels.limits]`; the platform's default for a channel is 10): the rate measured is
   the platform's, not a quota's.
2. Webhooks accepted. The worker is stopped first, so the server has the cores it shares
   with PostgreSQL and Redis. N concurrent keep-alive clients (bench/loadgen.py) post
   correctly signed Zalo text events, each with an event id of its own, to the hook: answers
   201 (stored, and queued for a worker) per second, p50 and p99. Target: none set by the
   issue; the figure is what one process accepts.

Webhooks are public routes, rate limited per client address (600 a minute by default).
As bench/dossiers.py does for tracking, each request carries an `X-Forwarded-For` with an
address of its own (uvicorn trusts 127.0.0.1 as a proxy): the limiter still does its work
but never refuses. No platform setting is changed. Zalo posts every province's webhooks
from its own servers: in production, that limit would apply to Zalo as one client.

The events queued in (2) are left unhandled; the bench deletes its queue's keys and jobs
from Redis, and its database, when it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import psutil
import uvloop
from cryptography.fernet import Fernet
from redis.asyncio import Redis
from sqlalchemy import select

from motcua_channel_zalo.standin import ZaloStandIn

sys.path.insert(0, str(Path(__file__).parent))
from loadgen import Req, Result, run
from make_pack import make_pack
from services import REDIS, fresh_database, motcua_env

from motcua.auth.models import Role
from motcua.auth.service import KeyService
from motcua.db import Database
from motcua.tenancy.models import Tenant
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import read_pack

MOTCUA = str(Path(sys.executable).with_name("motcua"))
SLUG = "tinh-chat"
SECRET_NAMES = ("secret", "token", "password", "api_key")
DOSSIERS = 40  # taken in over HTTP before the look-ups; the look-ups cycle through them

TARGETS_SQL = """
SELECT pa.procedure_code, pa.agency_code
FROM procedure_agencies pa
JOIN procedures p ON p.tenant_id = pa.tenant_id AND p.code = pa.procedure_code
JOIN agencies a ON a.tenant_id = pa.tenant_id AND a.code = pa.agency_code
WHERE p.active AND a.active
ORDER BY pa.procedure_code, pa.agency_code
"""


def env_refs(settings: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The channel table as a pack writes it: each secret an `env:` reference, set here
    (the server and worker inherit this process's environment)."""
    table: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, str) and any(n in key.lower() for n in SECRET_NAMES):
            name = f"{prefix}_{key}".upper()
            os.environ[name] = value
            table[key] = f"env:{name}"
        else:
            table[key] = value
    return table


async def onboard(url: str, zalo: ZaloStandIn, tmp: Path) -> tuple[uuid.UUID, str]:
    """The province with Zalo pointing at the stand-in; answer its id and an officer key."""
    pack = read_pack(make_pack(tmp / SLUG, slug=SLUG, procedures=20, departments=2, communes=4))
    channels = {
        "order": ["zalo"],
        "limits": {"zalo": {"per_second": 100}},
        "zalo": env_refs(zalo.settings(), "BENCH_ZALO"),
    }
    pack = msgspec.structs.replace(
        pack, tenant=msgspec.structs.replace(pack.tenant, channels=channels)
    )
    db = Database(url, role="motcua_app", pool_size=2)
    try:
        await apply_pack(db, pack)
        async with db.platform_session() as session:
            tenant = await session.scalar(select(Tenant.id).where(Tenant.slug == SLUG))
            assert tenant is not None
            _, key = await KeyService(session).create(
                role=Role.OFFICER, tenant_id=tenant, name="Cán bộ một cửa (bench)"
            )
            await session.commit()
    finally:
        await db.dispose()
    return tenant, key


async def take_in(url: str, http: httpx.AsyncClient, key: str) -> list[str]:
    """Dossiers taken in over HTTP, as an officer at the counter would: answer their codes."""
    connection = await asyncpg.connect(url)
    try:
        targets = [tuple(r) for r in await connection.fetch(TARGETS_SQL)]
    finally:
        await connection.close()
    codes = []
    for i in range(DOSSIERS):
        procedure, agency = targets[i % len(targets)]
        response = await http.post(
            f"/t/{SLUG}/api/v1/dossiers",
            headers={"Authorization": f"Bearer {key}"},
            json={
                "procedure_code": procedure,
                "agency_code": agency,
                "applicant": {"full_name": "Nguyễn Thị Lan", "phone": f"0912{i:06d}"},
            },
        )
        response.raise_for_status()
        codes.append(response.json()["code"])
    return codes


def addresses() -> Iterator[str]:
    """Client addresses for X-Forwarded-For, never reused in a run (see the docstring)."""
    for n in itertools.count(1):
        yield f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


async def lookups(
    http: httpx.AsyncClient, zalo: ZaloStandIn, codes: list[str], rate: float, count: int
) -> tuple[list[float], int, int]:
    """Look-ups at a steady rate; answer the latencies, the right replies, the hook's refusals."""
    posted: dict[str, tuple[float, str]] = {}  # citizen → (when posted, the code asked)
    replied: dict[str, tuple[float, str]] = {}
    refused = 0
    forwarded = addresses()

    async def watch() -> None:
        seen = 0
        while True:
            arrived = time.perf_counter()
            for message in zalo.received[seen:]:
                if message.channel == "oa" and message.user_id:
                    replied.setdefault(message.user_id, (arrived, message.text))
            seen = len(zalo.received)
            await asyncio.sleep(0.002)

    async def ask(i: int) -> None:
        nonlocal refused
        citizen, code = f"bench-citizen-{i}", codes[i % len(codes)]
        hook = zalo.text_event(citizen, f"tra cứu {code}")
        posted[citizen] = (time.perf_counter(), code)
        response = await http.post(
            f"/t/{SLUG}/hooks/zalo",
            content=hook.body,
            headers={**hook.headers, "X-Forwarded-For": next(forwarded)},
        )
        if response.status_code != 201:
            refused += 1

    watcher = asyncio.create_task(watch())
    start = time.perf_counter()
    asks = []
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        asks.append(asyncio.create_task(ask(i)))
    await asyncio.gather(*asks)
    deadline = time.perf_counter() + 30
    while len(replied) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    watcher.cancel()
    latencies = sorted(replied[c][0] - at for c, (at, _) in posted.items() if c in replied)
    right = sum(
        1 for c, (_, code) in posted.items() if c in replied and f"Hồ sơ {code}" in replied[c][1]
    )
    return latencies, right, refused


def hook_requests(zalo: ZaloStandIn) -> Callable[[], Req]:
    """Signed text events, each with an id of its own, from a thousand citizens."""
    forwarded = addresses()
    numbers = itertools.count(1)

    def next_request() -> Req:
        n = next(numbers)
        hook = zalo.text_event(f"bench-crowd-{n % 1000}", "Cho tôi hỏi giờ làm việc của xã?")
        headers = (*hook.headers.items(), ("X-Forwarded-For", next(forwarded)))
        return Req(f"/t/{SLUG}/hooks/zalo", method="POST", headers=headers, body=hook.body)

    return next_request


async def wait_ready(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        with contextlib.suppress(httpx.TransportError):
            if (await http.get("/readyz")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def forget_queue(queue_name: str, tenant: uuid.UUID) -> None:
    """Remove what this run left in Redis: its queues and the jobs of its province."""
    redis = Redis.from_url(REDIS)
    try:
        for pattern in (f"{queue_name}*", f"arq:*:inbound:{tenant}:*"):
            async for key in redis.scan_iter(match=pattern, count=1000):
                await redis.delete(key)
    finally:
        await redis.aclose()


def busy() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


async def measure(url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    zalo = ZaloStandIn()
    await zalo.start()
    queue_name = f"motcua:bench:{uuid.uuid4().hex[:6]}"
    tenant = None
    try:
        tenant, key = await onboard(url, zalo, tmp)
        env = motcua_env(
            url, MOTCUA_QUEUE_NAME=queue_name, MOTCUA_SECRET_KEYS=Fernet.generate_key().decode()
        )
        port = free_port()
        server = subprocess.Popen(
            [MOTCUA, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
        )
        worker = subprocess.Popen(
            [MOTCUA, "worker", "--health-file", str(tmp / "worker-alive")],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
            ) as http:
                await wait_ready(http)
                codes = await take_in(url, http, key)
                await asyncio.sleep(2)  # the worker connects
                latencies, right, refused = await lookups(
                    http, zalo, codes, args.rate, args.lookups
                )
            stop(worker)

            process = psutil.Process(server.pid)
            own, served, machine = time.process_time(), sum(process.cpu_times()[:2]), busy()
            started = time.perf_counter()
            accepted: Result = await run(
                "127.0.0.1", port, hook_requests(zalo), clients=args.clients, seconds=args.seconds
            )
            wall = time.perf_counter() - started
            cpu = (
                (sum(process.cpu_times()[:2]) - served) / wall,
                (time.process_time() - own) / wall,
                (busy() - machine) / wall,
            )
        finally:
            for process_ in (worker, server):
                if process_.poll() is None:
                    stop(process_)
        stored = await count_events(url)
    finally:
        await zalo.stop()
        if tenant is not None:
            await forget_queue(queue_name, tenant)
    return {
        "latencies": latencies,
        "right": right,
        "refused": refused,
        "accepted": accepted,
        "cpu": cpu,
        "stored": stored,
    }


async def count_events(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM inbound_events"))
    finally:
        await connection.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32, help="concurrent webhook clients")
    parser.add_argument("--seconds", type=float, default=15, help="of webhook load")
    parser.add_argument("--rate", type=float, default=10, help="look-ups a second")
    parser.add_argument("--lookups", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database("motcua_bench_chat") as url:
        got = uvloop.run(measure(url, args, Path(tmp)))

    lat: list[float] = got["latencies"]
    print(
        f"look-up by Zalo message, hook → reply at the stand-in, {args.rate:.0f}/s, "
        f"{args.lookups} look-ups: p50 {pct(lat, 0.5):6.1f} ms   p95 {pct(lat, 0.95):6.1f} ms   "
        f"answered {len(lat)}/{args.lookups}, right dossier {got['right']}, "
        f"hook refusals {got['refused']}   (target p95 < 1000 ms)"
    )
    accepted: Result = got["accepted"]
    server, generator, machine = got["cpu"]
    created = accepted.statuses.get(201, 0)
    print(
        f"{accepted.line(f'Zalo webhooks, {args.clients} clients')}   "
        f"accepted (201) {created / accepted.seconds:.0f}/s, {got['stored']:,} events stored "
        f"(warm-up and look-ups included)   cpu: server {server:4.0%}, "
        f"load generator {generator:4.0%}, machine {machine:4.0%}   (target: none set)"
    )
    if accepted.errors:
        print(f"  statuses {dict(sorted(accepted.statuses.items()))}")


if __name__ == "__main__":
    main()
