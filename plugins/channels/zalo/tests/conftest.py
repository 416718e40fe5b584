"""The Zalo stand-in on loopback, shared by the plugin's tests and reset before each."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from zalo_token_store import MemoryTokens

from motcua.notices.channel import SendContext
from motcua_channel_zalo import ZaloChannel, ZaloSettings
from motcua_channel_zalo.standin import ZaloStandIn

TEMPLATES = {"received": "tpl-received", "result_ready": "tpl-result-ready"}


@pytest.fixture(scope="session")
async def running_standin() -> AsyncIterator[ZaloStandIn]:
    async with ZaloStandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
def standin(running_standin: ZaloStandIn) -> ZaloStandIn:
    running_standin.reset()
    return running_standin


@pytest.fixture
def settings(standin: ZaloStandIn) -> ZaloSettings:
    return ZaloSettings(**standin.settings(zns_templates=TEMPLATES))


@pytest.fixture
def tokens() -> MemoryTokens:
    return MemoryTokens()


@pytest.fixture
def ctx(http: httpx.AsyncClient, tokens: MemoryTokens) -> SendContext:
    return SendContext(http=http, idempotency_key="notice-0001", tokens=tokens)


@pytest.fixture
def channel() -> ZaloChannel:
    return ZaloChannel()
