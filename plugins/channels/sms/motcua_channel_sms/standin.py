"""Local stand-ins of eSMS and SpeedSMS for tests, delivery drills and benchmarks.

Each is a real HTTP server on 127.0.0.1 (a free port) speaking the gateway's documented
protocol: the same path, authentication, field checks and codes. It records every message
it accepts and can be scripted to fail::

    async with EsmsStandIn() as esms:                 # listening once the block starts
        provider = {"kind": "esms", "api_base": esms.base_url, "api_key": esms.api_key,
                    "secret_key": esms.secret_key, "brandname": "UBND AG"}
        ...                                           # send through the plugin
        [sms] = await esms.wait_for(1)                # the ReceivedSms, as eSMS parsed it
        await esms.deliver_receipt(sms)               # eSMS's report GET to the CallbackUrl

        esms.fail_next(2, "103")                      # the next 2 sends answer CodeResult 103
        esms.fail_next(1, "99", http_status=500)      # ... or an HTTP error
        esms.fail_randomly(0.2, seed=7)               # a fifth of sends fail temporarily
        esms.slow_down(0.5)                           # every answer waits half a second
        await esms.go_down()                          # 503 to everything
        await esms.go_down(refuse=True)               # the port refuses connections
        await esms.come_up()
        esms.reset()                                  # forget messages and scripts

`SpeedSmsStandIn` has the same controls; its temporary code is 500, eSMS's is 99.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import math
import random
import re
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Self
from zoneinfo import ZoneInfo

import httpx
import msgspec
import uvicorn
from litestar import Litestar, Request, Response, get, post

from .gsm import is_gsm


@dataclass(frozen=True, kw_only=True)
class ReceivedSms:
    """One message a stand-in accepted, as its gateway read it."""

    gateway: str  # "esms" or "speedsms"
    phone: str  # in the gateway's form: 0912345678 (eSMS), 84912345678 (SpeedSMS)
    text: str
    brandname: str
    is_unicode: bool | None  # eSMS's IsUnicode; SpeedSMS has no such field
    request_id: str | None  # eSMS's RequestId
    callback_url: str | None  # eSMS's CallbackUrl
    provider_id: str  # the SMSID or tranId the gateway answered


class _QuietServer(uvicorn.Server):
    """Leaves signals to the host process: the stand-in runs inside tests and drills."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class GatewayStandIn(ABC):
    """What both stand-ins share: the server's life, recording, and scripted trouble."""

    gateway: ClassVar[str]
    temporary_code: ClassVar[str]  # what fail_randomly answers

    def __init__(self, *, api_key: str, brandnames: Collection[str]) -> None:
        self.api_key = api_key
        self.brandnames = set(brandnames)
        self.received: list[ReceivedSms] = []
        self.calls = 0  # every request to the send path, accepted or not
        self._scripted: list[tuple[str, int]] = []  # (code, HTTP status), one per call
        self._random_fraction = 0.0
        self._random = random.Random(0)  # noqa: S311 - drills, not secrets
        self._delay = 0.0
        self._unavailable = False
        self._arrived = asyncio.Event()
        self._app = Litestar(route_handlers=[self._route(), *self._routes()], logging_config=None)
        self._port = 0
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        """The api_base to put in the plugin's settings."""
        if not self._port:
            raise RuntimeError("the stand-in is not started")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1; returns once connections are accepted."""
        # IPPROTO_TCP spelt out: asyncio turns Nagle off only on sockets that say so, and
        # with Nagle each keep-alive answer waits 40 ms for a delayed ACK.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self._port))
        self._port = listener.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = self._server = _QuietServer(config)
        task = self._task = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("the stand-in could not start")
            await asyncio.sleep(0.002)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def fail_next(self, count: int, code: str, *, http_status: int = 200) -> None:
        """The next `count` well-formed, authenticated sends answer with this gateway code."""
        self._scripted.extend([(code, http_status)] * count)

    def fail_randomly(self, fraction: float, *, seed: int = 0) -> None:
        """Each send fails with the gateway's temporary code with this probability (seeded)."""
        self._random_fraction = fraction
        self._random = random.Random(seed)  # noqa: S311 - drills, not secrets

    def slow_down(self, seconds: float) -> None:
        """Every answer waits this long; 0 answers at once again."""
        self._delay = seconds

    async def go_down(self, *, refuse: bool = False) -> None:
        """Answer 503 to everything, or with `refuse` stop listening (connections refused)."""
        if refuse:
            await self.stop()
        else:
            self._unavailable = True

    async def come_up(self) -> None:
        """Undo go_down: the same address answers again."""
        self._unavailable = False
        if self._server is None:
            await self.start()

    def reset(self) -> None:
        """Forget received messages, calls and every scripted failure."""
        self.received.clear()
        self.calls = 0
        self._scripted.clear()
        self._random_fraction = 0.0
        self._delay = 0.0
        self._unavailable = False

    async def wait_for(self, count: int = 1, *, within: float = 5.0) -> list[ReceivedSms]:
        """The messages received, once there are at least `count` (TimeoutError otherwise)."""
        async with asyncio.timeout(within):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return list(self.received)

    def _record(self, sms: ReceivedSms) -> None:
        self.received.append(sms)
        self._arrived.set()

    async def _trouble(self) -> Response[Any] | None:
        """What happens before the gateway even reads the request."""
        self.calls += 1
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._unavailable:
            return Response("Service Unavailable", status_code=503, media_type="text/plain")
        return None

    def _scripted_failure(self) -> Response[Any] | None:
        if self._scripted:
            code, status = self._scripted.pop(0)
            return self._refusal(code, "scripted failure", http_status=status)
        if self._random_fraction and self._random.random() < self._random_fraction:
            return self._refusal(self.temporary_code, "random failure")
        return None

    @abstractmethod
    def _route(self) -> Any:
        """The Litestar handler of the gateway's send path."""

    def _routes(self) -> list[Any]:
        """The gateway's other handlers (the call that checks credentials)."""
        return []

    @abstractmethod
    def _refusal(self, code: str, message: str, *, http_status: int = 200) -> Response[Any]:
        """The gateway's answer carrying an error code."""


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    return body if isinstance(body, dict) else None


class EsmsStandIn(GatewayStandIn):
    """eSMS's SendMultipleMessage_V4_post_json, with RequestId deduplication (124) and the
    delivery report GET to each message's CallbackUrl (`deliver_receipt`).

    `templates`, when given, are regular expressions of the registered customer-care
    templates: a Content matching none answers 146, as eSMS does.
    `duplicate_echoes_smsid` makes 124 answers carry the first SMSID (eSMS's are bare).
    """

    gateway = "esms"
    temporary_code = "99"
    PATH: ClassVar[str] = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
    BALANCE_PATH: ClassVar[str] = "/MainService.svc/json/GetBalance_json/"
    _NATIONAL: ClassVar[re.Pattern[str]] = re.compile(r"0[1-9][0-9]{8}")

    def __init__(
        self,
        *,
        api_key: str = "esms-api-key",
        secret_key: str = "esms-secret-key",  # noqa: S107 - the stand-in's own account
        brandnames: Collection[str] = ("UBND AG",),
        templates: Sequence[str] | None = None,
        duplicate_echoes_smsid: bool = False,
    ) -> None:
        super().__init__(api_key=api_key, brandnames=brandnames)
        self.secret_key = secret_key
        self.templates = [re.compile(t, re.DOTALL) for t in templates] if templates else None
        self.duplicate_echoes_smsid = duplicate_echoes_smsid
        self._accepted: dict[str, str] = {}  # RequestId → SMSID

    def reset(self) -> None:
        super().reset()
        self._accepted.clear()

    async def deliver_receipt(
        self, sms: ReceivedSms, *, delivered: bool = True, status: str = "5", error_info: str = ""
    ) -> httpx.Response:
        """eSMS's report: a GET to the message's CallbackUrl, its own query kept."""
        if not sms.callback_url:
            raise ValueError("the message was sent without a CallbackUrl")
        report = {
            "SMSID": sms.provider_id,
            "SendFailed": "0" if delivered else "1",
            "SendStatus": status,
            "SendSuccess": "1" if delivered else "0",
            "TotalPrice": "0.0000",
            "TotalReceiver": "1",
            "TotalSent": "1",
            "RequestId": sms.request_id or "",
            "TypeId": "2",
            "telcoid": "1",
            "phonenumber": sms.phone,
            "error_info": error_info,
        }
        url = httpx.URL(sms.callback_url).copy_merge_params(report)
        async with httpx.AsyncClient() as client:
            return await client.get(url)

    def incoming_text(
        self,
        sender: str,
        content: str,
        *,
        smsid: str | None = None,
        received: datetime | None = None,
        service_number: str = "8079",
    ) -> dict[str, str]:
        """The query eSMS forwards a citizen's text (MO) with: add the tenant's `token` and
        GET it on /t/{slug}/hooks/sms. `sender` as eSMS writes it, 84…."""
        moment = (received or datetime.now(UTC)).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        return {
            "sender": sender,
            "content": content,
            "serviceNumber": service_number,
            "keyword": content.split()[0] if content.split() else "",
            "smsid": smsid or uuid.uuid4().hex,
            "receiverTime": moment.strftime("%Y%m%d%H%M%S"),
        }

    def _route(self) -> Any:
        @post(self.PATH, status_code=200)
        async def send(request: Request[Any, Any, Any]) -> Response[Any]:
            return await self._trouble() or self._send(_json_object(await request.body()))

        return send

    def _routes(self) -> list[Any]:
        @post(self.BALANCE_PATH, status_code=200)
        async def balance(request: Request[Any, Any, Any]) -> Response[Any]:
            body = _json_object(await request.body()) or {}
            if body.get("ApiKey") != self.api_key or body.get("SecretKey") != self.secret_key:
                return Response(
                    {"CodeResponse": "101", "ErrorMessage": "ApiKey or SecretKey is wrong"}
                )
            return Response({"Balance": 1_000_000, "CodeResponse": "100", "UserID": 4242})

        return [balance]

    def _send(self, body: dict[str, Any] | None) -> Response[Any]:
        if body is None:
            return self._refusal("99", "the body is not a JSON object")
        if body.get("ApiKey") != self.api_key or body.get("SecretKey") != self.secret_key:
            return self._refusal("101", "ApiKey or SecretKey is wrong")
        brandname = body.get("Brandname")
        if not isinstance(brandname, str) or brandname not in self.brandnames:
            return self._refusal("104", "Brandname is not registered")
        if body.get("SmsType") != "2":
            return self._refusal("118", "SmsType is not supported")
        phone, content = body.get("Phone"), body.get("Content")
        if not isinstance(phone, str) or not self._NATIONAL.fullmatch(phone):
            return self._refusal("108", "Phone is not in the right format")
        if not isinstance(content, str) or not content:
            return self._refusal("99", "Content is empty")
        if body.get("IsUnicode") not in ("0", "1"):
            return self._refusal("99", "IsUnicode must be 0 or 1")
        if self.templates is not None and not any(t.fullmatch(content) for t in self.templates):
            return self._refusal("146", "Content matches no registered template")
        if (failure := self._scripted_failure()) is not None:
            return failure
        request_id = body.get("RequestId") or None
        if request_id is not None and request_id in self._accepted:
            answer = {"CodeResult": "124", "ErrorMessage": "Duplicate RequestId"}
            if self.duplicate_echoes_smsid:
                answer["SMSID"] = self._accepted[request_id]
            return Response(answer, status_code=200)
        sms_id = str(uuid.uuid4())
        if request_id is not None:
            self._accepted[request_id] = sms_id
        self._record(
            ReceivedSms(
                gateway=self.gateway,
                phone=phone,
                text=content,
                brandname=brandname,
                is_unicode=body["IsUnicode"] == "1",
                request_id=request_id,
                callback_url=body.get("CallbackUrl") or None,
                provider_id=sms_id,
            )
        )
        return Response({"CodeResult": "100", "CountRegenerate": 0, "SMSID": sms_id})

    def _refusal(self, code: str, message: str, *, http_status: int = 200) -> Response[Any]:
        return Response({"CodeResult": code, "ErrorMessage": message}, status_code=http_status)


class SpeedSmsStandIn(GatewayStandIn):
    """SpeedSMS's /index.php/sms/send behind HTTP Basic (the access token as user name)."""

    gateway = "speedsms"
    temporary_code = "500"
    PATH: ClassVar[str] = "/index.php/sms/send"
    USER_INFO_PATH: ClassVar[str] = "/index.php/user/info"
    _INTERNATIONAL: ClassVar[re.Pattern[str]] = re.compile(r"84[1-9][0-9]{8}")

    def __init__(
        self, *, api_key: str = "speedsms-token", brandnames: Collection[str] = ("UBND AG",)
    ) -> None:
        super().__init__(api_key=api_key, brandnames=brandnames)
        self._tran_ids = itertools.count(100_001)

    def _route(self) -> Any:
        @post(self.PATH, status_code=200)
        async def send(request: Request[Any, Any, Any]) -> Response[Any]:
            if (trouble := await self._trouble()) is not None:
                return trouble
            if self._token(request.headers.get("authorization", "")) != self.api_key:
                # SpeedSMS's framework answers a refused Basic login so, before any code.
                body = {
                    "name": "Unauthorized",
                    "message": "Your request was made with invalid credentials.",
                    "code": 0,
                    "status": 401,
                }
                return Response(body, status_code=401)
            return self._send(_json_object(await request.body()))

        return send

    def _routes(self) -> list[Any]:
        @get(self.USER_INFO_PATH)
        async def user_info(request: Request[Any, Any, Any]) -> Response[Any]:
            if self._token(request.headers.get("authorization", "")) != self.api_key:
                body = {
                    "name": "Unauthorized",
                    "message": "Your request was made with invalid credentials.",
                    "code": 0,
                    "status": 401,
                }
                return Response(body, status_code=401)
            data = {"email": "thongbao@example.vn", "balance": 1_000_000, "currency": "VND"}
            return Response({"status": "success", "code": "00", "data": data})

        return [user_info]

    @staticmethod
    def _token(authorization: str) -> str | None:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, _password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user

    def _send(self, body: dict[str, Any] | None) -> Response[Any]:
        if body is None:
            return self._refusal("101", "the body is not a JSON object")
        to, content, sender = body.get("to"), body.get("content"), body.get("sender")
        if not isinstance(to, list) or not to or not all(isinstance(p, str) for p in to):
            return self._refusal("101", "to must be a list of phone numbers")
        if not isinstance(content, str) or not content:
            return self._refusal("101", "content is missing")
        if (
            body.get("sms_type") != 3
            or not isinstance(sender, str)
            or sender not in self.brandnames
        ):
            return self._refusal("101", "sms_type 3 needs a registered sender")
        invalid = [p for p in to if not self._INTERNATIONAL.fullmatch(p)]
        if len(invalid) == len(to):
            return self._refusal("105", "Phone number invalid", invalid=invalid)
        if (failure := self._scripted_failure()) is not None:
            return failure
        tran_id = next(self._tran_ids)
        valid = [p for p in to if p not in invalid]
        for phone in valid:
            self._record(
                ReceivedSms(
                    gateway=self.gateway,
                    phone=phone,
                    text=content,
                    brandname=sender,
                    is_unicode=None,
                    request_id=None,
                    callback_url=None,
                    provider_id=str(tran_id),
                )
            )
        parts = len(valid) * _parts(content)
        data = {
            "tranId": tran_id,
            "totalSMS": parts,
            "totalPrice": parts * 650,
            "invalidPhone": invalid,
        }
        return Response({"status": "success", "code": "00", "data": data})

    def _refusal(
        self, code: str, message: str, *, http_status: int = 200, invalid: Sequence[str] = ()
    ) -> Response[Any]:
        body = {
            "status": "error",
            "code": code,
            "message": message,
            "data": {"invalidPhone": list(invalid)},
        }
        return Response(body, status_code=http_status)


def _parts(text: str) -> int:
    """How many SMS a text costs: 160/153 GSM characters a part, 70/67 in UCS-2."""
    single, concatenated = (160, 153) if is_gsm(text) else (70, 67)
    return 1 if len(text) <= single else math.ceil(len(text) / concatenated)
