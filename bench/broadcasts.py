"""Figure of the broadcasts issue: a broadcast to 100,000 subscribers, one worker process.

    .venv/bin/python bench/broadcasts.py [--subscribers 100000]

One province onboarded into a fresh database of the local PostgreSQL (a synthetic pack, its
channel plan SMS through the eSMS stand-in: a real HTTP server on loopback, in this
process), one `motcua serve` process, one `motcua worker` process (both lanes, as
deployed), and the local Redis. The subscribers are loaded with SQL run as the database
owner, as bench/dossiers.py loads dossiers: each a phone of its own, all subscribed to the
topic "tin-tuc" in one commune's area; beside them 1% as many in another commune, whom the
broadcast must not reach. With them, the province's past: as many notices of the last
three months, delivered (a notices table in service is never empty), then ANALYZE, as
autovacuum keeps the statistics.

Measured: from the admin's POST /t/{slug}/api/v1/broadcasts (send now, the topic and the
one area) to the stand-in receiving the last message: total time, messages a second, and
the time to the first message. Then the broadcast's own counts (GET …/broadcasts/{id}),
and whether every subscriber got exactly one message. Target: under 100 s for 100,000.

The pack lets the province send 100,000 SMS a second (`[channels.limits]`, the provider's
quota out of the way: the rate measured is the platform's) and has no quiet hours (bulk
sends wait out the night otherwise, and the bench runs at any hour). The worker, the
server, the stand-in, PostgreSQL and Redis share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import psutil
from cryptography.fernet import Fernet
from redis.asyncio import Redis
from sqlalchemy import select

from motcua_channel_sms.standin import EsmsStandIn

sys.path.insert(0, str(Path(__file__).parent))
from make_pack import make_pack
from services import REDIS, fresh_database, motcua_env

from motcua.auth.models import Role
from motcua.auth.service import KeyService
from motcua.broadcasts.service import SubscriptionService
from motcua.db import Database
from motcua.tenancy.models import Tenant
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import read_pack

MOTCUA = str(Path(sys.executable).with_name("motcua"))
SLUG = "tinh-tin"
TOPIC = "tin-tuc"
TEXT = "Thông báo: từ 01/12/2026, Trung tâm phục vụ hành chính công làm việc cả sáng thứ Bảy."
LINK = "https://tinh-tin.gov.vn/tin/lich-lam-viec"

# $1 tenant, $2 how many, $3 the first number, $4 the area: phones +849{8 digits}, each once.
SUBSCRIBERS_SQL = """
INSERT INTO subscriptions (tenant_id, id, address_key, recipient, topic_slug, area_slug, source)
SELECT $1, gen_random_uuid(), 'phone:' || phone, jsonb_build_object('phone', phone), 'tin-tuc',
       $4, 'chat'
FROM (SELECT '+849' || lpad(n::text, 8, '0') AS phone
      FROM generate_series($3::int, $3::int + $2 - 1) AS n) AS numbers
"""

# The province's past: notices of the last three months, delivered, one per subscriber. A
# notices table in service holds such a history (and autovacuum's statistics of it); a
# fresh, empty one would have its statements planned for an empty table.
HISTORY_SQL = """
INSERT INTO notices (tenant_id, id, kind, lane, status, plan, channel, recipient, values,
                     attempts, channel_attempts, next_attempt_at, claimed_at, sent_at,
                     delivered_at, provider_id, template_version, test, last_error)
SELECT $1, gen_random_uuid(), 'received', 'dossier', 'delivered', '{sms}', 'sms',
       jsonb_build_object('phone', '+849' || lpad(n::text, 8, '0')), '{}', 1, 1, at, at,
       at, at + interval '5 seconds', 'esms-' || n, 1, false, ''
FROM (SELECT n, now() - (n % 90) * interval '1 day' - interval '1 hour' AS at
      FROM generate_series(1, $2) AS n) AS past
"""


async def onboard(url: str, esms: EsmsStandIn, tmp: Path) -> tuple[uuid.UUID, str, list[str]]:
    """The province with SMS through the stand-in: its id, an admin key, two communes' areas."""
    pack = read_pack(make_pack(tmp / SLUG, slug=SLUG, procedures=20, departments=2, communes=4))
    os.environ["BENCH_ESMS_KEY"], os.environ["BENCH_ESMS_SECRET"] = esms.api_key, esms.secret_key
    channels = {
        "order": ["sms"],
        "limits": {"sms": {"per_second": 100_000}},
        "quiet_hours": "",
        "sms": {
            "providers": [
                {
                    "kind": "esms",
                    "api_base": esms.base_url,
                    "api_key": "env:BENCH_ESMS_KEY",
                    "secret_key": "env:BENCH_ESMS_SECRET",
                    "brandname": "UBND TT",
                }
            ]
        },
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
                role=Role.ADMIN, tenant_id=tenant, name="Quản trị (bench)"
            )
            await session.commit()
        async with db.tenant_session(tenant) as session:
            # The default topics, and the areas derived from the catalogue's communes.
            await SubscriptionService(session).topics()
            areas = [a.slug for a in await SubscriptionService(session).areas()]
            await session.commit()
    finally:
        await db.dispose()
    return tenant, key, areas


async def load_subscribers(url: str, tenant: uuid.UUID, count: int, areas: list[str]) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET synchronous_commit = off")
        async with connection.transaction():
            await connection.execute(SUBSCRIBERS_SQL, tenant, count, 0, areas[0])
            # Others of the same topic elsewhere: the broadcast's area leaves them out.
            await connection.execute(
                SUBSCRIBERS_SQL, tenant, max(1, count // 100), 50_000_000, areas[1]
            )
            await connection.execute(HISTORY_SQL, tenant, count)
        await connection.execute("ANALYZE subscriptions")
        await connection.execute("ANALYZE notices")
    finally:
        await connection.close()


def busy() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


async def forget_queue(queue_name: str) -> None:
    """Remove this run's queues from Redis (the worker has emptied them, or been stopped)."""
    redis = Redis.from_url(REDIS)
    try:
        async for key in redis.scan_iter(match=f"{queue_name}*", count=1000):
            await redis.delete(key)
    finally:
        await redis.aclose()


async def measure(url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    queue_name = f"motcua:bench:{uuid.uuid4().hex[:6]}"
    async with EsmsStandIn(brandnames=["UBND TT"]) as esms:
        tenant, key, areas = await onboard(url, esms, tmp)
        started = time.perf_counter()
        await load_subscribers(url, tenant, args.subscribers, areas)
        loaded = time.perf_counter() - started
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
        admin = {"Authorization": f"Bearer {key}"}
        base = f"/t/{SLUG}/api/v1"
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                await wait_ready(http)
                preview = await http.post(
                    f"{base}/broadcasts/preview",
                    headers=admin,
                    json={"topic": TOPIC, "areas": [areas[0]]},
                )
                preview.raise_for_status()
                await asyncio.sleep(2)  # the worker connects
                expected = args.subscribers
                working = psutil.Process(worker.pid)
                cpu_before = (sum(working.cpu_times()[:2]), time.process_time(), busy())
                posted = time.perf_counter()
                response = await http.post(
                    f"{base}/broadcasts",
                    headers=admin,
                    json={"topic": TOPIC, "areas": [areas[0]], "text": TEXT, "link": LINK},
                )
                response.raise_for_status()
                ident = response.json()["id"]
                first = last = None
                deadline = posted + max(300.0, expected / 100)
                while time.perf_counter() < deadline:
                    now, got = time.perf_counter(), len(esms.received)
                    if got and first is None:
                        first = now
                    if got >= expected:
                        last = now
                        break
                    await asyncio.sleep(0.02)
                wall = time.perf_counter() - posted
                cpu = (
                    (sum(working.cpu_times()[:2]) - cpu_before[0]) / wall,
                    (time.process_time() - cpu_before[1]) / wall,
                    (busy() - cpu_before[2]) / wall,
                )
                await asyncio.sleep(1)  # anything beyond the expected would show now
                counts: dict[str, Any] = {}
                for _ in range(50):  # the worker records the last sends just after them
                    out = (await http.get(f"{base}/broadcasts/{ident}", headers=admin)).json()
                    counts = out["counts"]
                    if out["status"] == "sent" and counts.get("waiting") == 0:
                        break
                    await asyncio.sleep(0.2)
        finally:
            stop(worker)
            stop(server)
            await forget_queue(queue_name)
        phones = Counter(sms.phone for sms in esms.received)
    return {
        "loaded": loaded,
        "preview": preview.json()["recipients"],
        "posted": posted,
        "first": first,
        "last": last,
        "received": sum(phones.values()),
        "distinct": len(phones),
        "outside": sum(1 for p in phones if not p.startswith("09") or p[2:] >= "50000000"),
        "counts": counts,
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database("motcua_bench_broadcasts") as url:
        got = asyncio.run(measure(url, args, Path(tmp)))
    n = args.subscribers
    print(
        f"loaded {n:,} subscribers (+{max(1, n // 100):,} elsewhere) in {got['loaded']:.1f} s; "
        f"preview: {got['preview']:,} recipients"
    )
    first = f"{got['first'] - got['posted']:.2f} s" if got["first"] else "none"
    if got["last"] is None:
        print(
            f"broadcast to {n:,} subscribers, one worker: NOT FINISHED, {got['received']:,} "
            f"received (first after {first})   (target < 100 s)"
        )
    else:
        total = got["last"] - got["posted"]
        print(
            f"broadcast to {n:,} subscribers, one worker: POST → last message {total:6.1f} s   "
            f"{n / total:6.0f} messages/s   first message after {first}   (target < 100 s)"
        )
    worker, standin, machine = got["cpu"]
    print(
        f"  cpu meanwhile, in shares of one core: worker {worker:4.0%}, this process (the "
        f"stand-in) {standin:4.0%}, machine {machine:4.0%} (PostgreSQL, Redis and the rest)"
    )
    once = got["received"] == got["distinct"] == n and not got["outside"]
    print(
        f"  received {got['received']:,} messages, {got['distinct']:,} phones, "
        f"{got['outside']} outside the area: {'each subscriber once' if once else 'NOT ONCE EACH'}"
        f"; the broadcast's counts {got['counts']}"
    )


if __name__ == "__main__":
    main()
