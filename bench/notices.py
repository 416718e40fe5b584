"""Figures of the notices issue: delivery latency at a steady rate, and sustained delivery.

    .venv/bin/python bench/notices.py [--rate 200] [--seconds 15] [--backlog 10000]

Against a fresh database of the local PostgreSQL and the local Redis, one province whose
plan is SMS through the eSMS stand-in (a real HTTP server on loopback, in this process),
and one `motcua worker` process:

1. Latency. Notices are written at a steady rate through the outbox (the function a dossier
   event calls in its own transaction) and queued after their commit, as the API does. For
   each, the time from its commit to the stand-in receiving the message: p50 and p95.
   Target: p95 under 1 s at 200 a second. Each notice is for a citizen of its own (one
   citizen's notices are sent one after another); any not received 30 s after the last
   commit are counted by status.
2. Throughput. A backlog of notices is written in one transaction and analysed (the
   statistics of a table in service, as autovacuum keeps them: on this fresh database,
   without them, the planner would plan the backlog's statements for an empty table),
   then queued at once as the outbox queues them (the province's line and its turns,
   notices/turns.py); the worker delivers it: notices a second from the queueing to the
   last one received, and the CPU each process used meanwhile.
   Beside it, the stand-in's own ceiling: the same requests sent straight to it by this
   process, 100 at a time, through the worker's own HTTP client stack (a ceiling of the
   client and the stand-in together, in one process: the stand-in alone goes further).
The worker, the stand-in, PostgreSQL and Redis share the machine's two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import msgspec
import psutil
import uvloop
from cryptography.fernet import Fernet

from motcua_channel_sms.standin import EsmsStandIn

sys.path.insert(0, str(Path(__file__).parent))
from make_pack import make_pack
from services import REDIS, fresh_database
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.db import Database
from motcua.notices.channel import Address
from motcua.notices.connections import ProviderConnections
from motcua.notices.models import Notice
from motcua.notices.outbox import write_notices
from motcua.notices.turns import queue_in_turn
from motcua.queue import connect
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import read_pack

MOTCUA = str(Path(sys.executable).with_name("motcua"))
VALUES = {
    "code": "TT.X-261127-0001",
    "procedure": "Đăng ký kết hôn",
    "province": "Tỉnh Thử",
    "agency": "Ủy ban nhân dân xã An Bình",
    "salutation": "Ông/Bà",
    "received_date": "27/11/2026",
    "due_date": "30/11/2026",
    "tracking_url": "https://motcua.example.vn/track/TT.X-261127-0001?k=abc",
}


PHONES = itertools.count()  # a citizen each: one citizen's notices go one after another


async def onboard(url: str, esms: EsmsStandIn, tmp: Path) -> uuid.UUID:
    pack = read_pack(
        make_pack(tmp / "tinh-bench", slug="tinh-bench", procedures=10, departments=2, communes=2)
    )
    os.environ["BENCH_ESMS_KEY"], os.environ["BENCH_ESMS_SECRET"] = esms.api_key, esms.secret_key
    channels = {
        "order": ["sms"],
        "limits": {"sms": {"per_second": 100_000}},
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
    db = Database(url, role="motcua_app", pool_size=4)
    await apply_pack(db, pack)
    async with db.platform_session() as session:
        from sqlalchemy import text

        tenant = await session.scalar(text("SELECT id FROM tenants WHERE slug = 'tinh-bench'"))
    await db.dispose()
    return uuid.UUID(str(tenant))


async def receipt_for_a_new_citizen(session: AsyncSession) -> Notice:
    """One notice through the outbox, to a phone of its own."""
    [notice] = await write_notices(
        session,
        kind="received",
        to=Address(phone=f"+8491{next(PHONES):07d}"),
        values=VALUES,
        dossier_code=None,
        test=False,
    )
    return notice


async def write(db: Database, tenant: uuid.UUID, queue, *, enqueue: bool) -> tuple[str, float]:
    """One notice through the outbox; answer its id and its commit time."""
    async with db.tenant_session(tenant) as session:
        if enqueue:
            session.info["queue"] = queue
        notice = await receipt_for_a_new_citizen(session)
        await session.commit()
        committed = time.perf_counter()
        for after in session.info.pop("after_commit", []):
            await after()
    return str(notice.id), committed


async def latency(db, tenant, queue, esms, rate: float, seconds: float) -> list[float]:
    committed: dict[str, float] = {}
    received: dict[str, float] = {}
    seen = 0

    async def watch() -> None:
        nonlocal seen
        while True:
            for sms in esms.received[seen:]:
                received[sms.request_id] = time.perf_counter()
            seen = len(esms.received)
            await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch())
    start = time.perf_counter()
    count = int(rate * seconds)
    tasks = []
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(write(db, tenant, queue, enqueue=True)))
    for notice_id, at in await asyncio.gather(*tasks):
        committed[notice_id] = at
    deadline = time.perf_counter() + 30
    while len(received) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    watcher.cancel()
    return sorted(received[n] - committed[n] for n in committed if n in received)


@dataclass(frozen=True)
class Throughput:
    rate: float  # notices a second
    worker_ms: float  # the worker's CPU time per notice
    bench: float  # CPU of this process (the stand-in, the watcher), in shares of one core
    redis: float  # CPU of Redis, in cores
    postgres: float  # CPU of PostgreSQL, in cores
    machine: float  # CPU of the whole machine, in cores


def cpu_of(name: str) -> dict[int, float]:
    """CPU seconds so far of each process called `name`, by pid."""
    seconds = {}
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == name:
            with contextlib.suppress(psutil.Error):
                seconds[process.pid] = sum(process.cpu_times()[:2])
    return seconds


def cpu_since(name: str, before: dict[int, float]) -> float:
    """CPU seconds used since `before` by the processes called `name` that still run."""
    return sum(used - before.get(pid, 0.0) for pid, used in cpu_of(name).items())


def busy() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


async def throughput(
    url: str, db, tenant, queue, esms, backlog: int, worker: psutil.Process
) -> Throughput:
    # Written in one transaction, then queued at once as the outbox queues them (the
    # province's line and its turns): the relay cannot pick any up half-way.
    async with db.tenant_session(tenant) as session:
        notices = [await receipt_for_a_new_citizen(session) for _ in range(backlog)]
        await session.commit()
    # The statistics of a table in service, as autovacuum keeps them: on this fresh
    # database, without them, the planner takes the empty table's plans for the backlog.
    analyse = await asyncio.create_subprocess_exec("psql", url, "-qc", "ANALYZE notices")
    assert await analyse.wait() == 0
    ids = {str(notice.id) for notice in notices}
    worker_cpu, own, machine = sum(worker.cpu_times()[:2]), time.process_time(), busy()
    redis, postgres = cpu_of("redis-server"), cpu_of("postgres")
    await queue_in_turn(queue, queue.default_queue_name, str(tenant), "tinh-bench", list(ids))
    started, seen = time.perf_counter(), 0
    deadline = started + 300

    def delivered() -> int:
        return sum(1 for sms in esms.received[seen:] if sms.request_id in ids)

    done = 0
    while done < backlog and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
        done += delivered()
        seen = len(esms.received)
    wall = time.perf_counter() - started
    return Throughput(
        rate=done / wall,
        worker_ms=(sum(worker.cpu_times()[:2]) - worker_cpu) / max(done, 1) * 1000,
        bench=(time.process_time() - own) / wall,
        redis=cpu_since("redis-server", redis) / wall,
        postgres=cpu_since("postgres", postgres) / wall,
        machine=(busy() - machine) / wall,
    )


async def ceiling(esms: EsmsStandIn, seconds: float = 5.0) -> float:
    body = {
        "ApiKey": esms.api_key,
        "SecretKey": esms.secret_key,
        "Phone": "0912345678",
        "Content": "Ho so TT.X-261127-0001 da co ket qua",
        "Brandname": "UBND TT",
        "SmsType": "2",
        "IsUnicode": "0",
    }
    url = esms.base_url + EsmsStandIn.PATH
    done = 0
    async with ProviderConnections() as connections:  # the worker's own client stack
        end = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < end:
                async with connections.client() as http:
                    await http.post(url, json={**body, "RequestId": uuid.uuid4().hex})
                done += 1

        await asyncio.gather(*(client() for _ in range(100)))
    return done / seconds


async def statuses(db: Database, tenant: uuid.UUID) -> dict[str, int]:
    async with db.tenant_session(tenant) as session:
        rows = await session.execute(select(Notice.status, func.count()).group_by(Notice.status))
        return {status: count for status, count in rows.all()}


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def measure(
    url: str, args: argparse.Namespace, tmp: Path
) -> tuple[list[float], Throughput, float]:
    async with EsmsStandIn(brandnames=["UBND TT"]) as esms:
        tenant = await onboard(url, esms, tmp)
        queue_name = f"motcua:bench:{uuid.uuid4().hex[:6]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")} | {
            "MOTCUA_DATABASE_URL": url,
            "MOTCUA_REDIS_URL": REDIS,
            "MOTCUA_QUEUE_NAME": queue_name,
            "MOTCUA_SECRET_KEYS": Fernet.generate_key().decode(),
            "MOTCUA_LOG_LEVEL": "WARNING",
            "MOTCUA_DATABASE_POOL_SIZE": "20",
        }
        worker = subprocess.Popen([MOTCUA, "worker"], env=env, stderr=subprocess.DEVNULL)
        db = Database(url, role="motcua_app", pool_size=20)
        queue = await connect(REDIS, queue_name)
        try:
            await asyncio.sleep(2)  # the worker connects
            lat = await latency(db, tenant, queue, esms, args.rate, args.seconds)
            if len(lat) < int(args.rate * args.seconds):
                print(f"not all delivered in time; notices by status: {await statuses(db, tenant)}")
            rate = await throughput(
                url, db, tenant, queue, esms, args.backlog, psutil.Process(worker.pid)
            )
            top = await ceiling(esms)
        finally:
            worker.terminate()
            worker.wait(30)
            await queue.aclose()
            await db.dispose()
    return lat, rate, top


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--backlog", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database("motcua_bench_notices") as url:
        lat, rate, top = uvloop.run(measure(url, args, Path(tmp)))
    sent = int(args.rate * args.seconds)
    print(
        f"latency, commit → stand-in, {args.rate:.0f} notices/s for {args.seconds:.0f} s: "
        f"p50 {pct(lat, 0.5):6.1f} ms   p95 {pct(lat, 0.95):6.1f} ms   "
        f"mean {statistics.fmean(lat) * 1000:6.1f} ms   delivered {len(lat)}/{sent}   "
        "(target p95 < 1000 ms)"
    )
    print(
        f"sustained delivery, one worker process, backlog {args.backlog}: {rate.rate:7.0f} "
        "notices/s   (target 1,000/s)"
    )
    worker = rate.worker_ms * rate.rate / 1000
    rest = rate.machine - worker - rate.postgres - rate.redis - rate.bench
    print(
        f"   CPU meanwhile, in cores: the machine {rate.machine:.2f} of 2; the worker "
        f"{worker:.2f} ({rate.worker_ms:.2f} ms a notice), PostgreSQL {rate.postgres:.2f}, "
        f"Redis {rate.redis:.2f}, this process (the stand-in) {rate.bench:.2f}, the rest "
        f"(the kernel's network, other processes) {rest:.2f}"
    )
    print(f"the stand-in's own ceiling, 100 clients straight to it: {top:7.0f} requests/s")


if __name__ == "__main__":
    main()
