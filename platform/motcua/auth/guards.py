"""Guards: every staff, integration and platform route names the roles it admits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from motcua.auth.models import Role
from motcua.auth.service import KeyService, Principal, recently_seen
from motcua.errors import Forbidden, NotFound, Unauthorized
from motcua.state import services

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


async def _principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("This route needs an API key: Authorization: Bearer <key>.")
    principal = recently_seen.get(token.strip())
    if principal is None:
        async with services(connection).db.platform_session() as session:
            principal = await KeyService(session).authenticate(token.strip())
        if principal is not None:
            recently_seen.put(token.strip(), principal)
    if principal is None:
        raise Unauthorized("The API key is unknown or revoked.")
    connection.state.principal = principal
    return principal


def requires(*roles: Role) -> Guard:
    """Admit a key of one of these roles, belonging to the route's tenant."""
    admitted = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await _principal(connection)
        slug = connection.path_params.get("slug")
        if slug is not None:
            tenant = await services(connection).directory.by_slug(slug)
            if tenant is None:
                raise NotFound(f"No province is served at '{slug}'.")
            if principal.tenant_id != tenant.id:
                raise Forbidden("This key does not belong to this province.")
            if tenant.suspended:
                raise Forbidden("This province is suspended; staff routes are closed.")
        if principal.role not in admitted:
            allowed = ", ".join(sorted(admitted))
            raise Forbidden(f"This route is for the roles: {allowed}.")

    guard.__qualname__ = f"requires({', '.join(sorted(admitted))})"
    return guard


operator_only = requires(Role.OPERATOR)

# Marks a route that anyone may call (citizens): every route declares its access rule.
public = {"access": "public"}
