import secrets
from types import SimpleNamespace

import pytest

from motcua_channel_sms.standin import EsmsStandIn
from motcua_channel_zalo.standin import ZaloStandIn
from tests.notices.conftest import office, quick_backoff, worker  # noqa: F401 - fixtures
from tests.notices.test_drills import env_refs, sms_settings


@pytest.fixture
async def zalo():
    async with ZaloStandIn() as standin:
        yield standin


@pytest.fixture
async def esms():
    async with EsmsStandIn(brandnames=["UBND TT"]) as standin:
        yield standin


@pytest.fixture
async def chat(office, worker, zalo, esms, client, monkeypatch):  # noqa: F811
    """A province with Zalo then SMS, their stand-ins, and helpers to talk like a citizen."""
    tag = secrets.token_hex(3)
    sms = sms_settings(esms)
    desk = await office(
        ["zalo", "sms"],
        {
            "zalo": env_refs(f"z{tag}", zalo.settings(), monkeypatch),
            "sms": env_refs(f"s{tag}", sms, monkeypatch),
        },
    )
    hooks = f"/t/{desk.province.slug}/hooks"

    async def post(hook):
        return await client.post(f"{hooks}/zalo", content=hook.body, headers=hook.headers)

    async def says(user, text):
        response = await post(zalo.text_event(user, text))
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def replies(user, count, timeout=10):
        """The OA messages this user got, once there are `count` of them."""
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            got = [m.text for m in zalo.received if m.channel == "oa" and m.user_id == user]
            if len(got) >= count:
                return got
            if loop.time() > deadline:
                raise AssertionError(f"{user} got {got}, expected {count} messages")
            await asyncio.sleep(0.05)

    return SimpleNamespace(
        **vars(desk),
        zalo=zalo,
        esms=esms,
        sms_token=sms["callback_token"],
        hooks=hooks,
        post=post,
        says=says,
        replies=replies,
    )
