"""Figures of the dossiers issue: public tracking over 1,000,000 dossiers, and intake.

    .venv/bin/python bench/dossiers.py [--seconds 15] [--dossiers 1000000]

Onboards 34 synthetic provinces (200 procedures, 10 departments, 30 communes each) into a
fresh database of the local PostgreSQL, then loads the dossiers with SQL run as the
database owner, spread evenly over the provinces: codes in the real format
`{agency}-{yyMMdd}-{NNNN}` over the last two years (never today, so intake's numbering
cannot collide with them), procedures and agencies of the province, a status mix by age
(recent ones open, older ones mostly returned) and each status's timeline (1 to 4
events). Then VACUUM ANALYZE, as autovacuum would soon do after such a load.

1. Tracking. 64 concurrent keep-alive clients GET /t/{slug}/api/v1/track/{code}?k={key}
   for random dossiers of a sample of 10,000, with the right key, against `motcua serve`
   (one process). Beside it, in the same run, the floor: bench/floor.py, a bare Litestar
   route that does one asyncpg primary-key query on `dossiers`, served by uvicorn with the
   same settings, driven by the same load generator with the same requests. Targets:
   tracking at least half the floor's throughput, p99 under 50 ms.
2. Intake. 16 concurrent clients POST /t/{slug}/api/v1/dossiers with an officer key of
   the province (one per province), a random procedure of its catalogue, one of the
   agencies that take it in, and an applicant. Target: 300 dossiers/s.

Public tracking counts lookups without the key, 60 a minute per client address (shared by
processes through Redis); these requests carry the key, as a receipt's QR code does, so
the limit counts none of them (dossiers/routes.py, why). Each still carries an
`X-Forwarded-For` with an address of its own (10.x.y.z, counted up, never reused in a run),
which uvicorn takes from 127.0.0.1 as from a trusted proxy (`proxy_headers=True`,
FORWARDED_ALLOW_IPS defaulting to 127.0.0.1), as it would citizens' addresses behind the
province's proxy. No platform setting is changed; the floor gets the same header.

The load generator shares the machine's cores with the server and PostgreSQL; it runs on
uvloop to take as little from them as it can. Each line ends with the CPU used meanwhile,
in shares of one core: the server process, the load generator, and the whole machine
(PostgreSQL, Redis and anything else running included: a busy machine skews the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import psutil
import uvloop

sys.path.insert(0, str(Path(__file__).parent))
from loadgen import Req, Result, run
from make_pack import make_pack
from services import fresh_database, motcua_env

MOTCUA = str(Path(sys.executable).with_name("motcua"))
FLOOR = str(Path(__file__).with_name("floor.py"))
PER_DAY = 40  # dossiers a province takes in a day, in the loaded history
SAMPLE = 10_000  # dossiers the tracking clients pick from

# Every (procedure, agency that takes it in) of each province, numbered per province: the
# loader picks one for each dossier by number.
PAIRS_SQL = """
CREATE TEMP TABLE bench_pairs AS
SELECT p.tenant_id, p.code, pa.agency_code, p.processing_hours,
       (row_number() OVER (PARTITION BY p.tenant_id ORDER BY p.code, pa.position) - 1)::int AS i
FROM procedures p
JOIN procedure_agencies pa ON pa.tenant_id = p.tenant_id AND pa.procedure_code = p.code
WHERE p.active;
CREATE INDEX ON bench_pairs (tenant_id, i);
ANALYZE bench_pairs;
"""

# One province's dossiers: $1 tenant id, $2 how many, $3 dossiers a day, $4 its pairs.
# Dossier n was received (1 + n / $3) days ago, the (1 + n % $3)th of its day, so codes
# are unique in the province. Due dates approximate working time (a working day of 8
# hours ≈ 24 hours of calendar); some results are late.
DOSSIERS_SQL = """
WITH g AS (
    SELECT n, random() AS r, random() AS r2, 1 + n / $3 AS age, 1 + n % $3 AS seq,
           (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - 1 - n / $3 AS day
    FROM generate_series(0, $2 - 1) AS n
), d AS (
    SELECT g.*, p.code AS procedure_code, p.agency_code, p.processing_hours,
           (g.day + time '07:30' + (g.seq - 1) * interval '11 minutes')
               AT TIME ZONE 'Asia/Ho_Chi_Minh' AS received_at,
           CASE
               WHEN g.age <= 3 THEN CASE WHEN g.r < 0.5 THEN 'received' ELSE 'in_progress' END
               WHEN g.age <= 30 THEN CASE
                   WHEN g.r < 0.45 THEN 'in_progress'
                   WHEN g.r < 0.55 THEN 'supplement_requested'
                   WHEN g.r < 0.70 THEN 'result_ready'
                   WHEN g.r < 0.95 THEN 'returned'
                   ELSE 'withdrawn' END
               ELSE CASE
                   WHEN g.r < 0.88 THEN 'returned'
                   WHEN g.r < 0.93 THEN 'rejected'
                   WHEN g.r < 0.97 THEN 'withdrawn'
                   ELSE 'result_ready' END
           END AS status
    FROM g JOIN bench_pairs p ON p.tenant_id = $1 AND p.i = (g.n * 7919) % $4
), e AS (
    SELECT d.*, d.received_at + d.processing_hours * interval '3 hours' AS due_at,
           least(
               d.received_at + d.processing_hours * interval '3 hours' * (0.4 + d.r2 * 0.8),
               now() - interval '1 hour'
           ) AS done_at
    FROM d
)
INSERT INTO dossiers (
    tenant_id, code, procedure_code, receiving_agency_code, agency_code, status, channel,
    applicant_name, applicant_phone, documents, received_at, due_at, processing_hours,
    paused_at, completed_at, returned_at, timeliness, tracking_key, received_by, event_count
)
SELECT
    $1,
    e.agency_code || '-' || to_char(e.day, 'YYMMDD') || '-' || lpad(e.seq::text, 4, '0'),
    e.procedure_code, e.agency_code, e.agency_code, e.status, 'counter',
    (ARRAY['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Võ', 'Đặng'])[1 + e.n % 8]
        || ' ' || (ARRAY['Văn', 'Thị', 'Minh', 'Ngọc', 'Hữu', 'Thanh'])[1 + e.n % 6] || ' '
        || (ARRAY['An', 'Bình', 'Chi', 'Dũng', 'Hà', 'Hải', 'Lan', 'Long', 'Mai', 'Nam',
                  'Phúc', 'Tâm', 'Trang'])[1 + e.n % 13],
    '+849' || lpad(((e.n * 7919) % 100000000)::text, 8, '0'),
    ARRAY['Tờ khai', 'Giấy tờ tùy thân (xuất trình)'],
    e.received_at, e.due_at, e.processing_hours,
    CASE WHEN e.status = 'supplement_requested' THEN e.received_at + interval '1 day' END,
    CASE WHEN e.status IN ('result_ready', 'returned') THEN e.done_at END,
    CASE WHEN e.status = 'returned'
        THEN least(e.done_at + interval '1 day', now() - interval '30 minutes') END,
    CASE WHEN e.status IN ('result_ready', 'returned') THEN CASE
        WHEN e.done_at <= e.due_at - interval '1 day' THEN 'early'
        WHEN e.done_at <= e.due_at THEN 'on_time'
        ELSE 'late' END END,
    left(md5(random()::text), 22),
    'Cán bộ một cửa ' || (1 + e.n % 5),
    CASE e.status
        WHEN 'received' THEN 1
        WHEN 'in_progress' THEN 2
        WHEN 'withdrawn' THEN 2
        WHEN 'returned' THEN 4
        ELSE 3 END
FROM e
"""

# One province's timelines ($1 tenant id): each status's path of actions, at the times
# the dossier row holds. Event counts agree with dossiers.event_count above.
EVENTS_SQL = """
INSERT INTO dossier_events (
    tenant_id, dossier_code, seq, action, from_status, to_status, agency_code, actor,
    note, public, at
)
SELECT d.tenant_id, d.code, e.seq, e.action, a.from_status, a.to_status, d.agency_code,
       d.received_by, a.note, true,
       CASE e.action
           WHEN 'receive' THEN d.received_at
           WHEN 'start' THEN d.received_at + interval '1 hour'
           WHEN 'request_supplement' THEN d.paused_at
           WHEN 'complete' THEN d.completed_at
           WHEN 'return' THEN d.returned_at
           WHEN 'reject' THEN d.received_at + interval '2 days'
           ELSE d.received_at + interval '1 day'  -- withdraw
       END
FROM dossiers d
JOIN (VALUES
    ('received', ARRAY['receive']),
    ('in_progress', ARRAY['receive', 'start']),
    ('supplement_requested', ARRAY['receive', 'start', 'request_supplement']),
    ('result_ready', ARRAY['receive', 'start', 'complete']),
    ('returned', ARRAY['receive', 'start', 'complete', 'return']),
    ('rejected', ARRAY['receive', 'start', 'reject']),
    ('withdrawn', ARRAY['receive', 'withdraw'])
) AS path (status, actions) ON path.status = d.status
CROSS JOIN LATERAL unnest(path.actions) WITH ORDINALITY AS e (action, seq)
JOIN (VALUES
    ('receive', NULL, 'received', ''),
    ('start', 'received', 'in_progress', ''),
    ('request_supplement', 'in_progress', 'supplement_requested',
        'Đề nghị bổ sung bản sao giấy tờ có chứng thực'),
    ('complete', 'in_progress', 'result_ready', ''),
    ('return', 'result_ready', 'returned', ''),
    ('reject', 'in_progress', 'rejected', 'Hồ sơ không đủ điều kiện giải quyết'),
    ('withdraw', 'received', 'withdrawn', 'Công dân xin rút hồ sơ')
) AS a (action, from_status, to_status, note) ON a.action = e.action
WHERE d.tenant_id = $1
"""

TRACKING_SAMPLE_SQL = """
SELECT t.slug, d.code, d.tracking_key
FROM dossiers d TABLESAMPLE BERNOULLI (2) JOIN tenants t ON t.id = d.tenant_id
ORDER BY random()
LIMIT $1
"""

INTAKE_TARGETS_SQL = """
SELECT t.slug, pa.procedure_code, pa.agency_code
FROM procedure_agencies pa
JOIN procedures p ON p.tenant_id = pa.tenant_id AND p.code = pa.procedure_code
JOIN agencies a ON a.tenant_id = pa.tenant_id AND a.code = pa.agency_code
JOIN tenants t ON t.id = pa.tenant_id
WHERE p.active AND a.active
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, path: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server on port {port} did not become ready")


@contextlib.contextmanager
def serving(
    command: list[str], env: dict[str, str], port: int, ready: str
) -> Iterator[psutil.Process]:
    """A server process for the duration of the block; always terminated."""
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, ready)
        yield psutil.Process(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# -- set-up ------------------------------------------------------------------------------


async def load_dossiers(url: str, total: int) -> None:
    """Dossiers and their timelines, province by province, on two connections."""
    setup = await asyncpg.connect(url)
    try:
        tenants = [r["id"] for r in await setup.fetch("SELECT id FROM tenants ORDER BY slug")]
    finally:
        await setup.close()
    per_tenant = [total // len(tenants) + (i < total % len(tenants)) for i in range(len(tenants))]
    queue: asyncio.Queue[tuple[uuid.UUID, int]] = asyncio.Queue()
    for item in zip(tenants, per_tenant, strict=True):
        queue.put_nowait(item)

    async def worker() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("SET synchronous_commit = off")
            await connection.execute(PAIRS_SQL)
            while not queue.empty():
                tenant, n = queue.get_nowait()
                pairs = await connection.fetchval(
                    "SELECT count(*) FROM bench_pairs WHERE tenant_id = $1", tenant
                )
                async with connection.transaction():
                    await connection.execute(DOSSIERS_SQL, tenant, n, PER_DAY, pairs)
                    await connection.execute(EVENTS_SQL, tenant)
        finally:
            await connection.close()

    await asyncio.gather(worker(), worker())


async def sample_tracking(url: str) -> list[tuple[str, str, str]]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(TRACKING_SAMPLE_SQL, SAMPLE)
    finally:
        await connection.close()
    return [(r["slug"], r["code"], r["tracking_key"]) for r in rows]


async def officer_keys(url: str) -> dict[str, str]:
    """One officer key per province, made as `motcua keys create` makes them."""
    from sqlalchemy import select

    from motcua.auth.models import Role
    from motcua.auth.service import KeyService
    from motcua.db import Database
    from motcua.tenancy.models import Tenant

    db = Database(url, role="motcua_app", pool_size=1)
    keys: dict[str, str] = {}
    try:
        async with db.platform_session() as session:
            for tenant in (await session.scalars(select(Tenant))).all():
                _, keys[tenant.slug] = await KeyService(session).create(
                    role=Role.OFFICER, tenant_id=tenant.id, name=f"Cán bộ một cửa {tenant.slug}"
                )
            await session.commit()
    finally:
        await db.dispose()
    return keys


async def intake_targets(url: str) -> list[tuple[str, str, str]]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(INTAKE_TARGETS_SQL)
    finally:
        await connection.close()
    return [(r["slug"], r["procedure_code"], r["agency_code"]) for r in rows]


async def scalar(url: str, sql: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval(sql))
    finally:
        await connection.close()


# -- the requests ------------------------------------------------------------------------


def tracking_requests(sample: Sequence[tuple[str, str, str]], seed: int) -> Callable[[], Req]:
    rnd = random.Random(seed)
    addresses = itertools.count(1)

    def next_request() -> Req:
        slug, code, key = rnd.choice(sample)
        n = next(addresses)
        address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        return Req(
            f"/t/{slug}/api/v1/track/{code}?k={key}", headers=(("X-Forwarded-For", address),)
        )

    return next_request


def intake_requests(
    targets: Sequence[tuple[str, str, str]], keys: dict[str, str], seed: int
) -> Callable[[], Req]:
    rnd = random.Random(seed)
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Võ"]
    given = ["Văn An", "Thị Bình", "Minh Châu", "Ngọc Dung", "Hữu Phúc"]

    def next_request() -> Req:
        slug, procedure, agency = rnd.choice(targets)
        body = {
            "procedure_code": procedure,
            "agency_code": agency,
            "applicant": {
                "full_name": f"{rnd.choice(family)} {rnd.choice(given)}",
                "phone": f"09{rnd.randrange(10**8):08d}",
            },
        }
        return Req(
            f"/t/{slug}/api/v1/dossiers",
            method="POST",
            headers=(
                ("Authorization", f"Bearer {keys[slug]}"),
                ("Content-Type", "application/json"),
            ),
            body=json.dumps(body).encode(),
        )

    return next_request


@dataclass
class Measured:
    result: Result
    generator: float  # shares of one core, over the run (warm-up included)
    server: float
    machine: float  # all cores, every process: PostgreSQL, Redis and any other load too

    def line(self, label: str) -> str:
        line = (
            f"{self.result.line(label)}   cpu: server {self.server:4.0%}, "
            f"load generator {self.generator:4.0%}, machine {self.machine:4.0%}"
        )
        if self.result.errors:
            line += f"   statuses {dict(sorted(self.result.statuses.items()))}"
        return line


def measure(
    server: psutil.Process, port: int, next_request: Callable[[], Req], clients: int, seconds: float
) -> Measured:
    """The run's result, and how busy the processes and the machine were meanwhile."""

    def busy() -> float:
        times = psutil.cpu_times()
        return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))

    own, served, machine = time.process_time(), sum(server.cpu_times()[:2]), busy()
    started = time.perf_counter()
    result: Result = uvloop.run(
        run("127.0.0.1", port, next_request, clients=clients, seconds=seconds, warmup=3)
    )
    wall = time.perf_counter() - started
    return Measured(
        result,
        generator=(time.process_time() - own) / wall,
        server=(sum(server.cpu_times()[:2]) - served) / wall,
        machine=(busy() - machine) / wall,
    )


# -- the run -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=34)
    parser.add_argument("--tracking-clients", type=int, default=64)
    parser.add_argument("--intake-clients", type=int, default=16)
    args = parser.parse_args()
    slugs = [f"tinh-{i:02d}" for i in range(args.tenants)]
    with tempfile.TemporaryDirectory() as tmp, fresh_database("motcua_bench_dossiers") as url:
        started = time.perf_counter()
        for i, slug in enumerate(slugs):
            make_pack(
                Path(tmp) / slug, slug=slug, procedures=200, departments=10, communes=30, seed=i
            )
        env = motcua_env(url)
        subprocess.run([MOTCUA, "tenants", "apply", tmp], env=env, check=True, capture_output=True)
        print(
            f"onboarded {len(slugs)} provinces × 200 procedures in "
            f"{time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        asyncio.run(load_dossiers(url, args.dossiers))
        loaded = time.perf_counter() - started
        subprocess.run(
            ["psql", url, "-qc", "VACUUM ANALYZE dossiers", "-c", "VACUUM ANALYZE dossier_events"],
            check=True,
        )
        subprocess.run(["psql", url, "-qc", "ANALYZE"], check=True)
        dossiers = asyncio.run(scalar(url, "SELECT count(*) FROM dossiers"))
        events = asyncio.run(scalar(url, "SELECT count(*) FROM dossier_events"))
        print(
            f"loaded {dossiers:,} dossiers and {events:,} events in {loaded:.1f} s "
            f"(+ VACUUM ANALYZE: {time.perf_counter() - started - loaded:.1f} s)"
        )

        sample = asyncio.run(sample_tracking(url))
        keys = asyncio.run(officer_keys(url))
        targets = asyncio.run(intake_targets(url))
        slug, code, key = sample[0]
        probe = f"/t/{slug}/api/v1/track/{code}?k={key}"

        # The floor first, then the platform: one server at a time, the same requests.
        port = free_port()
        with serving([sys.executable, FLOOR, "--port", str(port)], env, port, probe) as server:
            floor = measure(
                server, port, tracking_requests(sample, 1), args.tracking_clients, args.seconds
            )
        port = free_port()
        with serving([MOTCUA, "serve", "--port", str(port)], env, port, "/readyz") as server:
            tracking = measure(
                server, port, tracking_requests(sample, 1), args.tracking_clients, args.seconds
            )
            intake = measure(
                server, port, intake_requests(targets, keys, 2), args.intake_clients, args.seconds
            )
        created = asyncio.run(scalar(url, "SELECT count(*) FROM dossiers")) - dossiers

    clients = args.tracking_clients
    print(tracking.line(f"tracking JSON, {clients} clients"))
    print(floor.line(f"floor (1 asyncpg PK query), {clients}"))
    t, f = tracking.result, floor.result
    print(
        f"tracking / floor: {t.rps / f.rps:.2f} of the floor's throughput (target ≥ 0.50); "
        f"tracking p99 {t.percentile(0.99):.1f} ms (target < 50 ms)"
    )
    took = intake.result
    taken_in = sum(n for status, n in took.statuses.items() if status == 201)
    print(intake.line(f"intake, {args.intake_clients} clients"))
    print(
        f"intake: {taken_in / took.seconds:.0f} dossiers/s   "
        f"p50 {took.percentile(0.50):.1f} ms   p99 {took.percentile(0.99):.1f} ms   "
        f"(target ≥ 300 dossiers/s; {created:,} dossiers taken in, warm-up included)"
    )


if __name__ == "__main__":
    main()
