"""The worker's connections to providers: never more sends in flight than connections, each
send on the least busy of the small pools."""

import asyncio
import contextlib
from collections import Counter

import pytest

from motcua.notices.connections import Busy, ProviderConnections


async def test_sends_beyond_the_connections_wait_and_spread_over_the_pools():
    async with ProviderConnections(connections=6) as connections:
        held: list = []
        release = asyncio.Event()

        async def send():
            async with connections.client() as http:
                held.append(http)
                await release.wait()

        sends = [asyncio.create_task(send()) for _ in range(7)]
        await asyncio.sleep(0.05)
        assert len(held) == 6  # the seventh waits for a connection
        assert sorted(Counter(map(id, held)).values()) == [3, 3]  # two pools of up to four
        release.set()
        await asyncio.gather(*sends)
        assert len(held) == 7


async def test_a_send_that_fails_gives_its_connection_back():
    async with ProviderConnections(connections=1) as connections:
        with contextlib.suppress(RuntimeError):
            async with connections.client():
                raise RuntimeError("the provider's answer could not be read")
        async with asyncio.timeout(1), connections.client() as http:
            assert http is not None


async def test_a_send_that_finds_no_connection_in_time_is_told_so_and_takes_none():
    async with ProviderConnections(connections=1, wait=0.05) as connections:
        async with connections.client():
            with pytest.raises(Busy):
                async with connections.client():
                    pass
        # The wait that gave up holds nothing: the connection is free again.
        async with asyncio.timeout(1), connections.client() as http:
            assert http is not None
