"""Structured JSON logs, one object a line, with the request id and tenant slug.

Access lines carry the method, the route's path and the status, never the query string
(tracking secrets travel there) and never a body: no personal data reaches the logs.
"""

from __future__ import annotations

import logging
import random
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from motcua.security.masking import mask

request_id: ContextVar[str] = ContextVar("request_id", default="")
tenant_slug: ContextVar[str] = ContextVar("tenant_slug", default="")

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
access_log = logging.getLogger("motcua.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((key, value) for key, value in record.__dict__.items() if key not in _STANDARD)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        for free_text in ("message", "error"):  # where personal data could slip in
            if free_text in entry:
                entry[free_text] = mask(entry[free_text])
        return msgspec.json.encode(entry, enc_hook=str).decode()


class RequestContext(logging.Filter):
    """Stamps the current request's id and tenant on every record, where it is made."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("request_id", request_id), ("tenant", tenant_slug)):
            if name not in record.__dict__ and (value := var.get()):
                setattr(record, name, value)
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would print raw paths with query strings: ours replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error", "arq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for chatty in ("pgserver", "alembic"):  # start-up chatter, not operations
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


def _new_request_id() -> str:
    # Unique, not secret: it names a request in the logs. No system call, unlike secrets.
    return f"{random.getrandbits(64):016x}"


class RequestLogging:
    """Gives each request an id (echoed as X-Request-ID) and writes one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else _new_request_id()
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A copy: the response cache may hold (and replay) the original message.
                headers = [*message.get("headers", []), (b"x-request-id", rid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                extra={
                    "request_id": rid,
                    "tenant": tenant_slug.get(),
                    "method": scope.get("method", ""),
                    "route": scope.get("path_template") or "unmatched",
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id.reset(token)
