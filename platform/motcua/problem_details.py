"""Every 4xx and 5xx the service answers, as RFC 9457 problem details."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

from motcua.errors import Problem

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "status": status,
        "title": title or HTTPStatus(status).phrase,
        "detail": detail,
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _on_problem(_: Request[Any, Any, Any], exc: Problem) -> Response[dict[str, Any]]:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == HTTPStatus.UNAUTHORIZED else None
    return problem(exc.status, exc.detail, headers=headers, **exc.extra)


def _on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and exc.extra:
        extra["errors"] = exc.extra
    detail = exc.detail or HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, detail, headers=exc.headers, **extra)


def _on_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    what = "Redis" if isinstance(exc, RedisConnectionError | RedisTimeoutError) else "PostgreSQL"
    log.warning("%s unavailable: %s", what, type(exc).__name__)
    return problem(503, f"{what} is unavailable; try again shortly.", headers={"Retry-After": "5"})


def _on_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return _on_unavailable(request, exc)
    if isinstance(exc, DataError):
        return _on_bad_value(request, exc)
    return _on_unexpected(request, exc)


def _on_bad_value(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # A value PostgreSQL cannot store as text, which no schema checks: a NUL character.
    # The transaction rolled back with it: nothing was written.
    log.info("value refused by the database: %s", type(exc).__name__)
    return problem(422, "A value cannot be stored as given (a NUL character, for one).")


def _on_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unexpected error", exc_info=exc)
    return problem(500, "An unexpected error occurred; it has been logged.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    Problem: _on_problem,
    HTTPException: _on_http,
    DBAPIError: _on_database_error,
    # The same, from the statements that go straight through asyncpg (db/rows.py).
    asyncpg.DataError: _on_bad_value,
    asyncpg.PostgresConnectionError: _on_unavailable,
    asyncpg.InterfaceError: _on_unavailable,
    OSError: _on_unavailable,  # connection refused before the driver wraps it
    RedisConnectionError: _on_unavailable,
    RedisTimeoutError: _on_unavailable,
    Exception: _on_unexpected,
}
