"""Errors a client can understand. Services raise these; they know nothing of HTTP
beyond a status, which problem_details.py turns into an RFC 9457 answer."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class Problem(Exception):
    """A failure the client can understand; subclasses say which status it is."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(Problem):
    status = HTTPStatus.BAD_REQUEST


class Unauthorized(Problem):
    status = HTTPStatus.UNAUTHORIZED


class Forbidden(Problem):
    status = HTTPStatus.FORBIDDEN


class NotFound(Problem):
    status = HTTPStatus.NOT_FOUND


class Conflict(Problem):
    status = HTTPStatus.CONFLICT


class Invalid(Problem):
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class Unavailable(Problem):
    status = HTTPStatus.SERVICE_UNAVAILABLE
