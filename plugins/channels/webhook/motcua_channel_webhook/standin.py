"""A province's notice receiver, as a real HTTP server on loopback, for tests and drills.

    receiver = WebhookReceiver(secret="s3cret")
    await receiver.start()                 # listening when it returns
    settings = receiver.channel_settings() # {"url": …, "secret": …} for [channels.webhook]
    ...                                    # send notices
    [notice] = await receiver.wait_for(1)  # accepted deliveries, parsed
    notice.payload["dossier_code"], notice.signature_valid
    await receiver.stop()

Scripting (each applies to the requests that arrive next, in this order of precedence):
`down = True` answers 503 to everything; `stall_next(n)` holds requests open without an
answer until stop() (the sender times out); `answer_next(n, status)` answers that status;
`fail_randomly(fraction, seed=…)` answers 503 to a seeded random share. Requests whose
signature does not check out are refused with 401 (unless `reject_invalid=False`).
`requests` records every request, `received` only the accepted ones; `reset()` clears
both and every script.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, Request, post
from litestar.response import Response

from motcua_channel_webhook.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify_signature,
)


@dataclass(frozen=True)
class ReceivedWebhook:
    """One request as the receiver saw it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes  # exactly the bytes received, the ones the signature covers
    payload: Any  # the parsed JSON body, None when it is not JSON
    signature_valid: bool
    status: int | None  # what the receiver answered; None for a stalled request


class WebhookReceiver:
    """A notice receiver checking X-Motcua-Signature with the shared secret."""

    def __init__(
        self,
        secret: str,
        *,
        path: str = "/hooks/motcua",
        reject_invalid: bool = True,
        assign_ids: bool = False,
        tolerance: int = 300,
    ) -> None:
        """assign_ids: answer accepted notices with 200 {"id": "rcv-N"} instead of 204."""
        self.secret = secret
        self.path = path
        self.reject_invalid = reject_invalid
        self.assign_ids = assign_ids
        self.tolerance = tolerance
        self.down = False
        self.requests: list[ReceivedWebhook] = []
        self.received: list[ReceivedWebhook] = []
        self.base_url = ""
        self._scripted: deque[int] = deque()
        self._stalls = 0
        self._failure_rate = 0.0
        self._random = random.Random(0)  # noqa: S311 - drills need repeatable, not secure
        self._ids = itertools.count(1)
        self._arrival = asyncio.Event()
        self._released = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The address to give the channel as `url`."""
        return self.base_url + self.path

    def channel_settings(self) -> dict[str, Any]:
        """A `[channels.webhook]` table pointing at this receiver."""
        return {"url": self.url, "secret": self.secret}

    def signed_message(
        self, message: dict[str, Any], *, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """(body, headers) the province's system would post on /t/{slug}/hooks/webhook."""
        body = msgspec.json.encode(message)
        stamp = int(time.time()) if timestamp is None else timestamp
        return body, {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: sign(self.secret, stamp, body),
        }

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1; `base_url` is set when this returns."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)  # connections queue here until uvicorn takes over the socket
        host, port = sock.getsockname()
        self.base_url = f"http://{host}:{port}"
        config = uvicorn.Config(
            self._app(),
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._released.clear()
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what kept it from starting
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Release stalled requests and shut the server down."""
        self._released.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None

    async def __aenter__(self) -> WebhookReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def answer_next(self, n: int, status: int) -> None:
        """Answer the next n requests with `status` (e.g. 503, 429, 400)."""
        self._scripted.extend([status] * n)

    def stall_next(self, n: int = 1) -> None:
        """Hold the next n requests open, unanswered, until stop(): senders time out."""
        self._stalls += n

    def fail_randomly(self, fraction: float, *, seed: int = 0) -> None:
        """Answer 503 to `fraction` of the requests, drawn from a generator seeded `seed`."""
        self._failure_rate = fraction
        self._random = random.Random(seed)  # noqa: S311 - drills need repeatable, not secure

    def reset(self) -> None:
        """Forget what was received and every script; the secret and options stay."""
        self.requests.clear()
        self.received.clear()
        self._scripted.clear()
        self._stalls = 0
        self._failure_rate = 0.0
        self.down = False

    async def wait_for(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is what this helper is for
    ) -> list[ReceivedWebhook]:
        """The first `count` accepted notices, waiting up to `timeout` seconds for them."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._arrival.clear()
                await self._arrival.wait()
        return self.received[:count]

    def _app(self) -> Litestar:
        @post(self.path)
        async def receive(request: Request[Any, Any, Any]) -> Response[Any]:
            return await self._receive(request)

        # No logging_config: a stand-in must not reconfigure the logging of its host process.
        return Litestar(route_handlers=[receive], openapi_config=None, logging_config=None)

    async def _receive(self, request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        valid = verify_signature(
            self.secret,
            headers.get(TIMESTAMP_HEADER.lower()),
            body,
            headers.get(SIGNATURE_HEADER.lower()),
            self.tolerance,
        )
        try:
            payload = msgspec.json.decode(body)
        except msgspec.DecodeError:
            payload = None

        status, answer = self._answer(valid)
        record = ReceivedWebhook(
            method=request.method,
            path=request.url.path,
            headers=headers,
            body=body,
            payload=payload,
            signature_valid=valid,
            status=status,
        )
        self.requests.append(record)
        if status is None:
            await self._released.wait()
            return Response({"error": "stopped"}, status_code=503)
        if 200 <= status < 300:
            self.received.append(record)
            self._arrival.set()
        return Response(answer, status_code=status)

    def _answer(self, signature_valid: bool) -> tuple[int | None, dict[str, str] | None]:
        if self.down:
            return 503, {"error": "unavailable"}
        if self._stalls:
            self._stalls -= 1
            return None, None
        if self._scripted:
            status = self._scripted.popleft()
            return status, None if 200 <= status < 300 else {"error": f"scripted {status}"}
        if self._failure_rate and self._random.random() < self._failure_rate:
            return 503, {"error": "unavailable"}
        if self.reject_invalid and not signature_valid:
            return 401, {"error": "invalid signature"}
        if self.assign_ids:
            return 200, {"id": f"rcv-{next(self._ids)}"}
        return 204, None
