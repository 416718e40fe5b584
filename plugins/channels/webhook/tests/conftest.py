"""A province's receiver on loopback, shared by the webhook tests and cleared before each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from motcua.notices.channel import Rendered, SendContext
from motcua_channel_webhook import WebhookChannel, WebhookSettings
from motcua_channel_webhook.standin import WebhookReceiver

SHARED_KEY = "bí-mật-chung-của-tỉnh"


class MemoryTokens:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, name: str) -> str | None:
        return self.values.get(name)

    async def set(self, name: str, value: str) -> None:
        self.values[name] = value


@pytest.fixture(scope="session")
async def started_receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(SHARED_KEY) as receiver:
        yield receiver


@pytest.fixture
def receiver(started_receiver: WebhookReceiver) -> WebhookReceiver:
    started_receiver.reset()
    started_receiver.assign_ids = False
    return started_receiver


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def context(http: httpx.AsyncClient) -> Callable[[str], SendContext]:
    return lambda notice_id: SendContext(
        http=http, idempotency_key=notice_id, tokens=MemoryTokens()
    )


@pytest.fixture
def channel() -> WebhookChannel:
    return WebhookChannel()


@pytest.fixture
def settings(receiver: WebhookReceiver) -> WebhookSettings:
    return WebhookSettings(url=receiver.url, secret=receiver.secret, timeout=2)


@pytest.fixture
def notice() -> Rendered:
    return Rendered(
        kind="result_ready",
        text="Hồ sơ 000.00.12.H01-250904-0001 đã có kết quả. Mời ông/bà đến nhận kết quả.",
        subject="Hồ sơ đã có kết quả",
        template_data={
            "tenant": "an-giang",
            "dossier_code": "000.00.12.H01-250904-0001",
            "status": "completed",
            "created_at": "2025-09-04T15:00:00+07:00",
        },
    )
