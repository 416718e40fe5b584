"""A small closed-loop HTTP/1.1 load generator on keep-alive connections, for benchmarks.

Each of N clients sends a request, reads the whole answer, and sends the next; latencies
are measured per request. Lighter than a general HTTP client, so the server is measured.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    latencies: list[float]
    errors: int
    seconds: float

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


async def _client(
    host: str,
    port: int,
    next_path: Callable[[], str],
    deadline: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            path = next_path()
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if b" 200 " not in status_line:
                errors.append(1)
    finally:
        writer.close()


async def run(
    host: str,
    port: int,
    next_path: Callable[[], str],
    *,
    clients: int,
    seconds: float,
    warmup: float = 2.0,
) -> Result:
    if warmup:
        await run(host, port, next_path, clients=clients, seconds=warmup, warmup=0)
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_client(host, port, next_path, deadline, latencies, errors) for _ in range(clients))
    )
    return Result(latencies, len(errors), time.perf_counter() - started)
