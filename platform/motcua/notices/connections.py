"""The worker's HTTP connections to providers: several small pools, not one large one.

httpx's pool looks over all its connections each time a request starts or ends, and, for
keep-alive, over all of them again for each idle one. With 16 connections in one pool that
cost a third of a millisecond per send, more than the rest of the send. Small pools, each
send taking the least busy, keep that cost flat however many connections the worker
holds (providers answer in tens or hundreds of milliseconds: a worker needs many).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

import httpx

PER_POOL = 4


class Busy(Exception):
    """No connection came free in time: the send is tried again later."""


class ProviderConnections:
    def __init__(self, connections: int = 32, wait: float = 10.0) -> None:
        pools = -(-connections // PER_POOL)  # as many pools of four as it takes
        per_pool = min(PER_POOL, connections)
        limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        timeout = httpx.Timeout(10.0, connect=5.0)
        # One TLS context for all pools, as httpx makes its own: each costs tens of ms.
        tls = httpx.create_ssl_context()
        self._clients = [
            httpx.AsyncClient(timeout=timeout, limits=limits, verify=tls) for _ in range(pools)
        ]
        self._busy = [0] * pools
        # No more sends in flight than there are connections: the rest wait here, cheaply,
        # rather than in a pool's queue, which costs each request in proportion to it; for
        # `wait` seconds at most, as they waited in httpx's pool, so a turn ends in its time.
        self._free = asyncio.Semaphore(connections)
        self._wait = wait

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """A client with a connection free, for one send (its retries and token refresh)."""
        try:
            await asyncio.wait_for(self._free.acquire(), self._wait)
        except TimeoutError:
            raise Busy(f"no connection to providers came free in {self._wait:.0f} s") from None
        pool = min(range(len(self._clients)), key=self._busy.__getitem__)
        self._busy[pool] += 1
        try:
            yield self._clients[pool]
        finally:
            self._busy[pool] -= 1
            self._free.release()

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
