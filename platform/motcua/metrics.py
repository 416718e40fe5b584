"""Request metrics: Litestar's Prometheus middleware, with its label lookups remembered.

The stock middleware builds a Request and asks prometheus_client for each metric's child
by its labels four times a request (`labels()` checks and locks each time); on public
tracking that was a fifth of the route's cost. This one reads the labels from the scope
and keeps each label set's children. Same metrics, names and labels
(`method, path, status_code, app_name, tenant`); /metrics reads the same.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Message, Receive, Scope, Send

# Distinct label sets are bounded by routes × statuses × provinces; this is a safety net.
MAX_LABEL_SETS = 50_000
LABELS = ("method", "path", "status_code", "app_name", "tenant")


class RequestMetrics(PrometheusMiddleware):
    """The config's labels are the defaults plus `tenant` (the route's `slug`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._children: dict[tuple[str, ...], Any] = {}

    def _child(self, kind: str, values: tuple[str, ...]) -> Any:
        key = (kind, *values)
        child = self._children.get(key)
        if child is None:
            if len(self._children) >= MAX_LABEL_SETS:
                self._children.clear()
            labels = dict(zip(LABELS, values, strict=True))
            metric = {
                "in_progress": self.requests_in_progress,
                "count": self.request_count,
                "time": self.request_time,
                "errors": self.requests_error_count,
            }[kind](labels)  # type: ignore[arg-type]
            child = self._children[key] = metric.labels(*values)
        return child

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"] if scope["type"] == ScopeType.HTTP else str(scope["type"])
        path = scope["path_template"] if self._config.group_path else scope["path"]
        tenant = str(scope["path_params"].get("slug", ""))
        app_name = self._config.app_name
        started = time.perf_counter()
        span = {"status": 200, "duration": 0.0}

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                span["status"] = message["status"]
            elif message["type"] == "http.response.body":
                span["duration"] = time.perf_counter() - started
            await send(message)

        in_progress = self._child("in_progress", (method, path, "200", app_name, tenant))
        in_progress.inc()
        try:
            await self.app(scope, receive, timed_send)
        finally:
            in_progress.dec()
            values = (method, path, str(span["status"]), app_name, tenant)
            if span["status"] >= HTTP_500_INTERNAL_SERVER_ERROR:
                self._child("errors", values).inc()
            self._child("count", values).inc()
            self._child("time", values).observe(span["duration"])
