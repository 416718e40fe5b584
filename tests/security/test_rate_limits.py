"""Rate limits: per client address on public routes, per credential on staff routes."""

import asyncio
import secrets

import httpx
import msgspec
import pytest

from motcua.app import create_app
from motcua.auth.models import Role
from tests.running import running


@pytest.fixture
async def strict_app(settings):
    tight = msgspec.structs.replace(
        settings,
        rate_limit_public_per_minute=3,
        rate_limit_caller_per_minute=3,
        queue_name=f"motcua:test:{secrets.token_hex(4)}",
    )
    async with running(create_app(tight)) as application:
        yield application


def _client(app, address):
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


async def test_a_public_route_refuses_the_fourth_request_a_minute_from_one_address(
    strict_app, onboard
):
    province = await onboard()
    url = f"/t/{province.slug}/api/v1/procedures"
    async with _client(strict_app, "10.1.2.3") as one, _client(strict_app, "10.1.2.4") as two:
        assert [(await one.get(url)).status_code for _ in range(3)] == [200] * 3
        assert (await one.get(url)).status_code == 429
        assert (await two.get(url)).status_code == 200


async def test_a_staff_route_counts_per_key_not_per_address(strict_app, onboard, make_key):
    province = await onboard()
    url = f"/t/{province.slug}/api/v1/dossiers"
    first = {"Authorization": f"Bearer {await make_key(Role.OFFICER, province)}"}
    second = {"Authorization": f"Bearer {await make_key(Role.OFFICER, province)}"}
    async with _client(strict_app, "10.7.7.7") as desk:
        # A key's first request, before it is known good, counts under the address.
        assert (await desk.get(url, headers=first)).status_code == 200
        assert [(await desk.get(url, headers=first)).status_code for _ in range(3)] == [200] * 3
        assert (await desk.get(url, headers=first)).status_code == 429
        assert (await desk.get(url, headers=second)).status_code == 200


def _invented_key():
    return {"Authorization": f"Bearer mc_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"}


async def test_invented_keys_from_one_address_are_limited_like_one_caller(
    strict_app, onboard, make_key
):
    province = await onboard()
    url = f"/t/{province.slug}/api/v1/dossiers"
    real = {"Authorization": f"Bearer {await make_key(Role.OFFICER, province)}"}
    async with _client(strict_app, "10.7.7.8") as prober, _client(strict_app, "10.7.7.9") as other:
        assert (await prober.get(url, headers=real)).status_code == 200  # known good from now
        answers = [(await prober.get(url, headers=_invented_key())).status_code for _ in range(4)]
        assert answers == [401, 401, 429, 429]
        forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"}
        assert (await prober.get(url, headers=forged)).status_code == 429
        # The real key counts as itself; another address has its own allowance.
        assert (await prober.get(url, headers=real)).status_code == 200
        assert (await other.get(url, headers=_invented_key())).status_code == 401


async def test_two_processes_counting_one_address_together_never_let_more_through(settings):
    """Each process has its own client: the count is Redis's, atomic, not a process's."""
    from redis.asyncio import Redis

    from motcua.security.limits import CountingStore

    namespace = f"motcua:test:{secrets.token_hex(4)}"
    stores = [CountingStore(Redis.from_url(settings.redis_url), namespace) for _ in range(2)]
    try:
        hits = await asyncio.gather(
            *(stores[n % 2].hit("address:10.9.9.9", 60) for n in range(100))
        )
        assert sorted(count for count, _ in hits) == list(range(1, 101))
        assert all(0 < left <= 60 for _, left in hits)
        assert (await stores[0].hit("address:10.9.9.8", 60))[0] == 1  # another address
    finally:
        for store in stores:
            await store._redis.aclose()


async def test_tracking_and_the_catalogue_count_apart(strict_app, onboard):
    """Tracking's own limit does not eat the address's catalogue allowance, nor the reverse."""
    province = await onboard()
    async with _client(strict_app, "10.1.2.9") as phone:
        for _ in range(3):
            assert (await phone.get(f"/t/{province.slug}/api/v1/procedures")).status_code == 200
        tracked = await phone.get(f"/t/{province.slug}/api/v1/track/NO-SUCH-CODE")
        assert tracked.status_code == 404
        assert tracked.headers["ratelimit-limit"] == "60"
        assert tracked.headers["ratelimit-remaining"] == "59"
