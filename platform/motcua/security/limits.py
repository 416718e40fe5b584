"""Rate limits, through Litestar's middleware and the shared Redis store ("rate_limit"), so
every process counts together.

- Public routes (catalogue, webhooks, pages): per client address. Tracking keeps its own,
  stricter limit (dossiers/routes.py), so it is not counted twice here.
- Staff, integration and platform routes: per credential (API key or session), so one
  busy system cannot starve the others behind the same address, and a leaked key is slowed.
  Sign-in attempts are limited per account by auth/.
The client address is the socket's, or the X-Forwarded-For of a trusted proxy (uvicorn's
proxy_headers with FORWARDED_ALLOW_IPS): a caller cannot pick its own.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address

from motcua.settings import Settings

SESSION_COOKIE = "motcua_session"  # the signed-in staff's session (auth/guards.py)
HAS_OWN_LIMIT = [r"/track/"]  # tracking pages and JSON: their own limit


def _is_public(request: Request[Any, Any, Any]) -> bool:
    return request.route_handler.opt.get("access") == "public"


# Coroutines, not plain functions: Litestar runs a plain check in a worker thread.
async def _public_route(request: Request[Any, Any, Any]) -> bool:
    return _is_public(request)


async def _staff_route(request: Request[Any, Any, Any]) -> bool:
    return not _is_public(request)


def _address(request: Request[Any, Any, Any]) -> str:
    return f"address:{get_remote_address(request)}"


def _credential(request: Request[Any, Any, Any]) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    secret = token.strip() if scheme.lower() == "bearer" else ""
    secret = secret or request.cookies.get(SESSION_COOKIE, "")
    if not secret:
        return _address(request)  # no credential: the guard refuses it, per address
    # A digest, not the key: the store must not hold credentials.
    return "credential:" + hashlib.sha256(secret.encode()).hexdigest()[:32]


def rate_limits(settings: Settings) -> list[DefineMiddleware]:
    """The app-wide limits; a limit of 0 turns it off."""
    limits = []
    if settings.rate_limit_public_per_minute > 0:
        limits.append(
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_public_per_minute),
                store="rate_limit",
                exclude=HAS_OWN_LIMIT,
                identifier_for_request=_address,
                check_throttle_handler=_public_route,
            ).middleware
        )
    if settings.rate_limit_caller_per_minute > 0:
        limits.append(
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_caller_per_minute),
                store="rate_limit",
                identifier_for_request=_credential,
                check_throttle_handler=_staff_route,
            ).middleware
        )
    return limits
