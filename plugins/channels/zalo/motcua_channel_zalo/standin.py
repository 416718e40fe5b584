"""A local stand-in for Zalo's OA, ZNS and OAuth servers, for tests and delivery drills.

It is a real HTTP server on 127.0.0.1 speaking the protocol of PROVIDERS.md: the same
paths, the `access_token` header checked against the one token currently valid, token
refresh rotating both tokens, Zalo's error codes in 200 answers::

    async with ZaloStandIn() as zalo:
        settings = ZaloSettings(**zalo.settings(zns_templates={"received": "tpl-1"}))
        ...                                # send through ZaloChannel with those settings
        [message] = await zalo.received(count=1, timeout=5)   # also a plain list
        zalo.fail_next(-32, times=2)       # the next two API calls answer error -32
        zalo.fail_randomly(0.2, seed=7)    # a fifth of API calls answer -32, reproducibly
        zalo.set_down()                    # every call answers HTTP 503 until set_down(False)
        zalo.expire_access_token()         # API calls answer -216 until a refresh
        hook = zalo.text_event("user-1", "Xin chào")   # a signed webhook, ready to post
        receipt = zalo.delivery_receipt(tracking_id)   # the ZNS receipt of a sent message
        zalo.reset()                       # back to a fresh stand-in, same address
    # leaving the block stops it: connections to `base_url` are then refused

Scripted failures, random failures and the token check apply to the message and OA calls
(`/v3.0/oa/message/cs`, `/message/template`, `/v2.0/oa/getoa`); "down" applies to all.
The OAuth refusals are not listed in PROVIDERS.md: the stand-in answers −14014 for a
spent or unknown refresh token and −14002 for a wrong app id or secret key.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import re
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import parse_qs

import msgspec
import uvicorn
from litestar import Litestar, Request, Response, get, post

from motcua.notices.channel import RawRequest
from motcua_channel_zalo.webhooks import signature

TOKEN_INVALID: Final = -216
PARAMETERS_INVALID: Final = -201
PHONE_INVALID: Final = -108
REFRESH_TOKEN_INVALID: Final = -14014
APP_INVALID: Final = -14002
MAX_TEXT: Final = 2000
ZNS_PHONE: Final = re.compile(r"84\d{9}")


class ReceivedMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message the stand-in accepted, as the citizen would get it."""

    channel: Literal["oa", "zns"]
    msg_id: str
    access_token: str  # the token that carried it
    user_id: str | None = None  # OA messages
    text: str = ""
    phone: str | None = None  # ZNS messages, written 84…
    template_id: str | None = None
    template_data: dict[str, Any] = msgspec.field(default_factory=dict)
    tracking_id: str | None = None


class ApiCall(msgspec.Struct, frozen=True, kw_only=True):
    """Any request the stand-in answered, accepted or not (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    error: int | None  # Zalo's `error` in the answer; None for a 503


class SignedWebhook(msgspec.Struct, frozen=True, kw_only=True):
    """A webhook Zalo would post: post `body` with `headers` to `/t/{slug}/hooks/zalo`."""

    body: bytes
    headers: dict[str, str]

    def raw_request(self) -> RawRequest:
        """The webhook as the core hands it to a channel plugin."""
        headers = {name.lower(): value for name, value in self.headers.items()}
        return RawRequest(method="POST", headers=headers, query={}, body=self.body)


class Inbox(list[ReceivedMessage]):
    """The accepted messages in order; await `inbox(count, timeout)` to wait for them."""

    def __init__(self) -> None:
        super().__init__()
        self._arrived = asyncio.Event()

    def add(self, message: ReceivedMessage) -> None:
        self.append(message)
        self._arrived.set()

    # A deadline parameter on purpose: `[msg] = await standin.received(timeout=5)` in tests.
    async def __call__(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ReceivedMessage]:
        """Every message so far, once at least `count` have arrived (TimeoutError if not)."""
        async with asyncio.timeout(timeout):
            while len(self) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return list(self)


class _Server(uvicorn.Server):
    """uvicorn inside a running loop: says when it listens, leaves signals to the host."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ZaloStandIn:
    """Zalo's OA, ZNS and OAuth servers at one local address (`base_url` once started)."""

    def __init__(
        self,
        *,
        app_id: str = "standin-app",
        oa_id: str = "standin-oa",
        # The stand-in's own credentials guard nothing.
        app_secret: str = "standin-app-secret",  # noqa: S107
        oa_secret_key: str = "standin-oa-secret",  # noqa: S107
    ) -> None:
        self.app_id = app_id
        self.oa_id = oa_id
        self.app_secret = app_secret
        self.oa_secret_key = oa_secret_key
        self.base_url = ""
        self.received = Inbox()
        self.calls: list[ApiCall] = []
        self.access_token = self.refresh_token = ""  # the one pair currently valid
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._issued = itertools.count(1)
        self._ids = itertools.count(1)
        self._scripted: deque[tuple[int, str]] = deque()
        self._chaos: tuple[random.Random, float, int] | None = None
        self._down = False
        self._expired = False
        self.reset()

    # Lifecycle

    async def start(self) -> None:
        """Listen on a free loopback port; returns once requests are answered."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Without it, a response's head and body meet Nagle and delayed ACKs: 40 ms a call.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(), log_config=None, access_log=False, lifespan="off",
            timeout_graceful_shutdown=1,
        )  # fmt: skip
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        listening = asyncio.create_task(self._server.listening.wait())
        await asyncio.wait({self._task, listening}, return_when=asyncio.FIRST_COMPLETED)
        if not listening.done():
            listening.cancel()
            await self._task  # raises what stopped the server
            raise RuntimeError("the Zalo stand-in stopped before listening")
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None

    async def __aenter__(self) -> ZaloStandIn:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # Scripting

    def reset(self) -> None:
        """Forget messages, calls and scripts; issue a fresh pair of tokens."""
        self.received.clear()
        self.calls.clear()
        self._scripted.clear()
        self._chaos = None
        self._down = False
        self._expired = False
        self.access_token, self.refresh_token = self._issue_tokens()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """A `[channels.zalo]` table pointing at this stand-in with its current tokens."""
        table: dict[str, Any] = {
            "app_id": self.app_id,
            "oa_id": self.oa_id,
            "app_secret": self.app_secret,
            "oa_secret_key": self.oa_secret_key,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "api_base": self.base_url,
            "zns_api_base": self.base_url,
            "oauth_base": self.base_url,
        }
        return table | overrides

    def fail_next(self, code: int, *, times: int = 1, message: str = "scripted failure") -> None:
        """The next `times` API calls with a valid token answer `error: code`."""
        self._scripted.extend([(code, message)] * times)

    def fail_randomly(self, fraction: float, *, seed: int = 0, code: int = -32) -> None:
        """From now on, answer `error: code` to that fraction of API calls, reproducibly."""
        # Not cryptography: a seeded generator makes a drill repeatable.
        self._chaos = (random.Random(seed), fraction, code)  # noqa: S311

    def set_down(self, down: bool = True) -> None:
        """While down, every call (OAuth included) answers HTTP 503."""
        self._down = down

    def expire_access_token(self) -> None:
        """The current access token now answers −216, until the next refresh."""
        self._expired = True

    # Webhooks

    def signed_event(
        self, event: dict[str, Any], *, timestamp_ms: int | None = None
    ) -> SignedWebhook:
        """The event with `app_id` and `timestamp` filled in, signed as Zalo signs it."""
        stamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        body = msgspec.json.encode({"app_id": self.app_id, **event, "timestamp": stamp})
        mac = signature(self.app_id, body, stamp, self.oa_secret_key)
        return SignedWebhook(
            body=body,
            headers={"Content-Type": "application/json", "X-ZEvent-Signature": f"mac={mac}"},
        )

    def follow_event(self, user_id: str, *, follow: bool = True) -> SignedWebhook:
        return self.signed_event(
            {
                "oa_id": self.oa_id,
                "event_name": "follow" if follow else "unfollow",
                "follower": {"id": user_id},
                "user_id_by_app": f"app-{user_id}",
            }
        )

    def text_event(self, user_id: str, text: str, *, msg_id: str | None = None) -> SignedWebhook:
        return self.signed_event(
            {
                "event_name": "user_send_text",
                "sender": {"id": user_id},
                "recipient": {"id": self.oa_id},
                "message": {"msg_id": msg_id or self._new_id("msg"), "text": text},
                "user_id_by_app": f"app-{user_id}",
            }
        )

    def submit_info_event(
        self, user_id: str, *, name: str, phone: str, address: str = ""
    ) -> SignedWebhook:
        """The citizen shared contact details; `phone` written as Zalo writes it, 84…."""
        return self.signed_event(
            {
                "event_name": "user_submit_info",
                "sender": {"id": user_id},
                "recipient": {"id": self.oa_id},
                "info": {"name": name, "phone": phone, "address": address},
            }
        )

    def delivery_receipt(self, tracking_id: str) -> SignedWebhook:
        """The `user_received_message` event of the ZNS message sent with that tracking id."""
        for message in self.received:
            if message.channel == "zns" and message.tracking_id == tracking_id:
                return self.signed_event(
                    {
                        "oa_id": self.oa_id,
                        "event_name": "user_received_message",
                        "message": {
                            "msg_id": message.msg_id,
                            "tracking_id": tracking_id,
                            "delivery_time": str(int(time.time() * 1000)),
                        },
                    }
                )
        raise LookupError("no ZNS message with that tracking id was received")

    # The server

    def _issue_tokens(self) -> tuple[str, str]:
        issued = next(self._issued)
        return f"standin-access-{issued}", f"standin-refresh-{issued}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def _answer(
        self, request: Request[Any, Any, Any], body: bytes, status: int, answer: dict[str, Any]
    ) -> Response[Any]:
        self.calls.append(ApiCall(
            method=request.method, path=request.url.path, headers=dict(request.headers),
            body=body, status=status, error=answer.get("error") if status == 200 else None,
        ))  # fmt: skip
        if status != 200:
            return Response(content="Service Unavailable", status_code=status)
        return Response(content=answer, status_code=200)

    def _gate(self, request: Request[Any, Any, Any]) -> dict[str, Any] | None:
        """The error answer a call gets before its content is looked at, if any."""
        token = request.headers.get("access_token")
        if token != self.access_token or self._expired:
            return {"error": TOKEN_INVALID, "message": "Access token is invalid"}
        if self._scripted:
            code, message = self._scripted.popleft()
            return {"error": code, "message": message}
        if self._chaos is not None:
            chance, fraction, code = self._chaos
            if chance.random() < fraction:
                return {"error": code, "message": "random failure"}
        return None

    async def _api(
        self,
        request: Request[Any, Any, Any],
        handle: Callable[[bytes, str], dict[str, Any]],
    ) -> Response[Any]:
        body = await request.body()
        if self._down:
            return self._answer(request, body, 503, {})
        answer = self._gate(request) or handle(body, request.headers["access_token"])
        return self._answer(request, body, 200, answer)

    def _cs_message(self, body: bytes, token: str) -> dict[str, Any]:
        try:
            sent = msgspec.json.decode(body, type=_CsRequest)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return {"error": PARAMETERS_INVALID, "message": str(exc)}
        if not sent.message.text or len(sent.message.text) > MAX_TEXT:
            return {"error": PARAMETERS_INVALID, "message": "text must be 1 to 2000 characters"}
        msg_id = self._new_id("oa")
        self.received.add(ReceivedMessage(
            channel="oa", msg_id=msg_id, access_token=token,
            user_id=sent.recipient.user_id, text=sent.message.text,
        ))  # fmt: skip
        data = {"message_id": msg_id, "user_id": sent.recipient.user_id}
        return {"error": 0, "message": "Success", "data": data}

    def _zns_message(self, body: bytes, token: str) -> dict[str, Any]:
        try:
            sent = msgspec.json.decode(body, type=_ZnsRequest)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return {"error": PARAMETERS_INVALID, "message": str(exc)}
        if not ZNS_PHONE.fullmatch(sent.phone):
            return {"error": PHONE_INVALID, "message": "Phone number is invalid"}
        msg_id = self._new_id("zns")
        self.received.add(ReceivedMessage(
            channel="zns", msg_id=msg_id, access_token=token, phone=sent.phone,
            template_id=sent.template_id, template_data=sent.template_data,
            tracking_id=sent.tracking_id,
        ))  # fmt: skip
        sent_today = sum(1 for m in self.received if m.channel == "zns")
        data = {
            "msg_id": msg_id,
            "sent_time": str(int(time.time() * 1000)),
            "quota": {"dailyQuota": "500", "remainingQuota": str(max(500 - sent_today, 0))},
        }
        return {"error": 0, "message": "Success", "data": data}

    def _oa_profile(self, body: bytes, token: str) -> dict[str, Any]:
        data = {"oa_id": self.oa_id, "name": "Trung tâm Phục vụ hành chính công (thử nghiệm)"}
        return {"error": 0, "message": "Success", "data": data}

    def _refresh(self, request: Request[Any, Any, Any], body: bytes) -> dict[str, Any]:
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        if (
            request.headers.get("secret_key") != self.app_secret
            or form.get("app_id") != self.app_id
        ):
            return {"error": APP_INVALID, "error_name": "Invalid app_id or secret_key"}
        if form.get("grant_type") != "refresh_token":
            return {"error": PARAMETERS_INVALID, "error_name": "Invalid grant_type"}
        if form.get("refresh_token") != self.refresh_token:
            return {"error": REFRESH_TOKEN_INVALID, "error_name": "Invalid refresh token"}
        # Both rotate: the old refresh token is spent, the old access token dies with it.
        self.access_token, self.refresh_token = self._issue_tokens()
        self._expired = False
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": "90000",
        }

    def _app(self) -> Litestar:
        @post("/v3.0/oa/message/cs", status_code=200)
        async def cs_message(request: Request[Any, Any, Any]) -> Response[Any]:
            return await self._api(request, self._cs_message)

        @post("/message/template", status_code=200)
        async def zns_message(request: Request[Any, Any, Any]) -> Response[Any]:
            return await self._api(request, self._zns_message)

        @get("/v2.0/oa/getoa")
        async def oa_profile(request: Request[Any, Any, Any]) -> Response[Any]:
            return await self._api(request, self._oa_profile)

        @post("/v4/oa/access_token", status_code=200)
        async def access_token(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await request.body()
            if self._down:
                return self._answer(request, body, 503, {})
            return self._answer(request, body, 200, self._refresh(request, body))

        return Litestar(
            route_handlers=[cs_message, zns_message, oa_profile, access_token],
            openapi_config=None,
            logging_config=None,
        )


class _CsUser(msgspec.Struct):
    user_id: str


class _CsText(msgspec.Struct):
    text: str


class _CsRequest(msgspec.Struct):
    recipient: _CsUser
    message: _CsText


class _ZnsRequest(msgspec.Struct):
    phone: str
    template_id: str
    template_data: dict[str, Any]
    tracking_id: str | None = None
