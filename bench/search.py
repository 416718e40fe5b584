"""Figure of the catalogue issue: search over 34 provinces × 2,000 procedures.

    .venv/bin/python bench/search.py [--seconds 20] [--clients 32]

Onboards 34 synthetic provinces into a fresh database of the local PostgreSQL (then
ANALYZE, as autovacuum would soon do), starts `motcua serve` (one process), then runs 32
concurrent keep-alive clients, each searching a random province for a random query with
and without diacritics. Twice: with the response cache (the default) and without it
(MOTCUA_RESPONSE_CACHE_SECONDS=0, every request searches PostgreSQL). Prints requests per
second, median and p99 latency. Target: p99 under 25 ms. The load generator shares the
machine's two cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from loadgen import run
from make_pack import make_pack
from services import fresh_database, motcua_env

MOTCUA = str(Path(sys.executable).with_name("motcua"))
QUERIES = [
    "dang ky ket hon",
    "Đăng ký kết hôn",
    "giay phep xay dung",
    "khai sinh",
    "thường trú",
    "ho kinh doanh",
    "cap lai giay phep lai xe quoc te",
    "bảo hiểm y tế",
    "tro cap that nghiep",
    "chứng chỉ hành nghề",
    "dat dai",
    "tam tru",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--tenants", type=int, default=34)
    args = parser.parse_args()
    slugs = [f"tinh-{i:02d}" for i in range(args.tenants)]
    with tempfile.TemporaryDirectory() as tmp, fresh_database("motcua_bench_search") as url:
        for slug in slugs:
            make_pack(
                Path(tmp) / slug,
                slug=slug,
                procedures=2000,
                departments=20,
                communes=150,
                seed=hash(slug) % 1000,
            )
        env = motcua_env(url)
        started = time.perf_counter()
        subprocess.run([MOTCUA, "tenants", "apply", tmp], env=env, check=True, capture_output=True)
        print(
            f"onboarded {len(slugs)} provinces × 2,000 procedures in "
            f"{time.perf_counter() - started:.1f} s"
        )
        subprocess.run(["psql", url, "-qc", "ANALYZE"], check=True)
        rnd = random.Random(1)

        def next_path() -> str:
            return (
                f"/t/{rnd.choice(slugs)}/api/v1/procedures?q="
                f"{quote(rnd.choice(QUERIES))}&per_page=10"
            )

        lines = []
        for label, cache in (("cached (default 60 s)", "60"), ("uncached", "0")):
            port = free_port()
            server = subprocess.Popen(
                [MOTCUA, "serve", "--port", str(port)],
                env=env | {"MOTCUA_RESPONSE_CACHE_SECONDS": cache},
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_ready(port)
                result = asyncio.run(
                    run(
                        "127.0.0.1",
                        port,
                        next_path,
                        clients=args.clients,
                        seconds=args.seconds,
                        warmup=3,
                    )
                )
            finally:
                server.terminate()
                server.wait(30)
            lines.append(result.line(f"search {label}, {args.clients} clients"))
    print(*lines, sep="\n")
    print("target: p99 < 25 ms")


def wait_ready(port: int) -> None:
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready")


if __name__ == "__main__":
    main()
