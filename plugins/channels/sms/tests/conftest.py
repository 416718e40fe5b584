"""The SMS plugin against its stand-ins, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar, Request, get

from motcua.notices.channel import RawRequest, Rendered, SendContext, resolve_settings
from motcua_channel_sms import SmsChannel, SmsSettings
from motcua_channel_sms.standin import EsmsStandIn, SpeedSmsStandIn

CALLBACK_TOKEN = "callback-token-an-giang"


class MemoryTokens:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, name: str) -> str | None:
        return self.values.get(name)

    async def set(self, name: str, value: str) -> None:
        self.values[name] = value


class FakeClock:
    """The channel's clock for cool-downs: tests move time instead of waiting."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ReceiptInbox:
    """The core's receipt address, as far as eSMS can tell: records each GET as a RawRequest."""

    def __init__(self) -> None:
        self.requests: list[RawRequest] = []
        self.base_url = ""

        @get("/t/an-giang/receipts/sms", status_code=200)
        async def receive(request: Request[Any, Any, Any]) -> str:
            self.requests.append(
                RawRequest(
                    method=request.method,
                    headers={k.lower(): v for k, v in request.headers.items()},
                    query=dict(request.query_params.items()),
                    body=await request.body(),
                )
            )
            return "OK"

        self.app = Litestar(route_handlers=[receive], logging_config=None)


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@pytest.fixture(scope="session")
async def receipt_inbox() -> AsyncIterator[ReceiptInbox]:
    inbox = ReceiptInbox()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    inbox.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    config = uvicorn.Config(inbox.app, log_level="warning", access_log=False, lifespan="off")
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no event
        await asyncio.sleep(0.002)
    yield inbox
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def esms_server() -> AsyncIterator[EsmsStandIn]:
    async with EsmsStandIn(brandnames=["UBND AG"]) as server:
        yield server


@pytest.fixture(scope="session")
async def speedsms_server() -> AsyncIterator[SpeedSmsStandIn]:
    async with SpeedSmsStandIn(brandnames=["UBND AG"]) as server:
        yield server


@pytest.fixture
async def esms(esms_server: EsmsStandIn) -> AsyncIterator[EsmsStandIn]:
    esms_server.reset()
    yield esms_server
    await esms_server.come_up()
    esms_server.reset()


@pytest.fixture
async def speedsms(speedsms_server: SpeedSmsStandIn) -> AsyncIterator[SpeedSmsStandIn]:
    speedsms_server.reset()
    yield speedsms_server
    await speedsms_server.come_up()
    speedsms_server.reset()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def channel(clock: FakeClock) -> SmsChannel:
    """A fresh instance per test: health learnt in one test must not leak into the next."""
    draws = random.Random(2025)
    return SmsChannel(clock=clock, rng=draws, slow_after=1.0)


@pytest.fixture
def esms_account(esms: EsmsStandIn) -> Callable[..., dict[str, Any]]:
    def account(**overrides: Any) -> dict[str, Any]:
        return {
            "kind": "esms",
            "api_base": esms.base_url,
            "api_key": esms.api_key,
            "secret_key": esms.secret_key,
            "brandname": "UBND AG",
            **overrides,
        }

    return account


@pytest.fixture
def speedsms_account(speedsms: SpeedSmsStandIn) -> Callable[..., dict[str, Any]]:
    def account(**overrides: Any) -> dict[str, Any]:
        return {
            "kind": "speedsms",
            "api_base": speedsms.base_url,
            "api_key": speedsms.api_key,
            "brandname": "UBND AG",
            **overrides,
        }

    return account


@pytest.fixture
def settings() -> Callable[..., SmsSettings]:
    """Settings as the core builds them from a tenant.toml table."""

    def build(*providers: dict[str, Any], **table: Any) -> SmsSettings:
        raw = {"providers": list(providers), "callback_token": CALLBACK_TOKEN, **table}
        resolved: SmsSettings = resolve_settings(SmsChannel, raw)
        return resolved

    return build


@pytest.fixture
def context(http: httpx.AsyncClient, receipt_inbox: ReceiptInbox) -> Callable[..., SendContext]:
    def build(notice_id: str | None = None, *, with_token: bool = True) -> SendContext:
        receipt_url = f"{receipt_inbox.base_url}/t/an-giang/receipts/sms"
        return SendContext(
            http=http,
            idempotency_key=notice_id or str(uuid.uuid4()),
            tokens=MemoryTokens(),
            receipt_url=f"{receipt_url}?token={CALLBACK_TOKEN}" if with_token else receipt_url,
        )

    return build


@pytest.fixture
def notice() -> Rendered:
    return Rendered(kind="result_ready", text="Hồ sơ 000.00.01.H01-250904-0001 đã có kết quả.")
