"""Liveness and readiness for people and for Kubernetes probes."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get

from motcua.auth.guards import public
from motcua.problem_details import problem
from motcua.state import services

CHECK_TIMEOUT = 2.0


@get("/healthz", tags=["health"], summary="The process is alive", sync_to_thread=False, opt=public)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", tags=["health"], summary="PostgreSQL and Redis are reachable", opt=public)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    svc = services(request)
    checks = {
        "database": await _check(svc.db.ping()),
        "redis": await _check(svc.queue.ping()),
    }
    failed = [name for name, result in checks.items() if result != "ok"]
    if failed:
        return problem(503, f"Not ready: {', '.join(failed)} unreachable.", checks=checks)
    return Response({"status": "ready", "checks": checks})


async def _check(probe: Any) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
