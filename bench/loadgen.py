"""A small closed-loop HTTP/1.1 load generator on keep-alive connections, for benchmarks.

Each of N clients sends a request, reads the whole answer, and sends the next; latencies
are measured per request. Lighter than a general HTTP client, so the server is measured.

`next_path` answers either a path (a GET) or a `Req`: any method, extra headers, a body.
A request counts as an error unless its status is 2xx; `Result.statuses` counts them all.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Req:
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""  # sent with a Content-Length; give a Content-Type in headers


@dataclass
class Result:
    latencies: list[float]
    errors: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000

    def line(self, label: str) -> str:
        return (
            f"{label:<34} {self.rps:8.0f} req/s   p50 {self.percentile(0.50):6.2f} ms   "
            f"p99 {self.percentile(0.99):6.2f} ms   mean "
            f"{statistics.fmean(self.latencies) * 1000:6.2f} ms   errors {self.errors}"
        )


def _encode(host: str, request: str | Req) -> bytes:
    if isinstance(request, str):
        return f"GET {request} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}"]
    head += [f"{name}: {value}" for name, value in request.headers]
    if request.body or request.method not in ("GET", "HEAD"):
        head.append(f"Content-Length: {len(request.body)}")
    return "\r\n".join([*head, "", ""]).encode() + request.body


async def _client(
    host: str,
    port: int,
    next_path: Callable[[], str | Req],
    deadline: float,
    latencies: list[float],
    statuses: Counter[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            message = _encode(host, next_path())
            started = time.perf_counter()
            writer.write(message)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            parts = status_line.split(b" ", 2)
            statuses[int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0] += 1
    finally:
        writer.close()


async def run(
    host: str,
    port: int,
    next_path: Callable[[], str | Req],
    *,
    clients: int,
    seconds: float,
    warmup: float = 2.0,
) -> Result:
    if warmup:
        await run(host, port, next_path, clients=clients, seconds=warmup, warmup=0)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_client(host, port, next_path, deadline, latencies, statuses) for _ in range(clients))
    )
    errors = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    return Result(latencies, errors, time.perf_counter() - started, statuses)
