"""Guards: every staff, integration and platform route names the roles it admits.

A caller shows either an API key (``Authorization: Bearer mc_…``) or the platform's own
session token, as a Bearer token or in the HttpOnly session cookie. A request that rides on
the cookie and changes something must echo the CSRF cookie in ``X-CSRF-Token``: another
site can make the browser send the cookie, never read it.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from motcua.auth.models import Role
from motcua.auth.scope import needs_tree, recent_trees, scope_of
from motcua.auth.service import KEY_PREFIX, KeyService, Principal, recently_seen
from motcua.auth.tokens import revoked_key, signer_for
from motcua.catalog.service import CatalogService
from motcua.errors import Forbidden, NotFound, Unauthorized
from motcua.state import services

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]

SESSION_COOKIE = "motcua_session"
REFRESH_COOKIE = "motcua_refresh"
CSRF_COOKIE = "motcua_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _key_principal(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Principal:
    principal = recently_seen.get(token)
    if principal is None:
        async with services(connection).db.platform_session() as session:
            principal = await KeyService(session).authenticate(token)
        if principal is not None:
            recently_seen.put(token, principal)
    if principal is None:
        raise Unauthorized("The API key is unknown or revoked.")
    return principal


async def _session_principal(
    connection: ASGIConnection[Any, Any, Any, Any], token: str
) -> Principal:
    found = services(connection)
    principal = signer_for(found.settings).verify(token)
    if principal is None:
        raise Unauthorized("The session is invalid or has expired; sign in again.")
    if principal.session_id and await found.queue.exists(
        revoked_key(found.settings, principal.session_id)
    ):
        raise Unauthorized("This session has been signed out; sign in again.")
    return principal


def _method(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(connection.scope.get("method", "GET"))


def check_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Refuse a request that changes something unless it echoes the CSRF cookie in its
    header: a request riding on a cookie (the session's, or the refresh token's)."""
    if _method(connection) in SAFE_METHODS:
        return
    expected = connection.cookies.get(CSRF_COOKIE, "")
    sent = connection.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise Forbidden(
            "A signed-in browser request that changes something must send the "
            "motcua_csrf cookie's value in the X-CSRF-Token header."
        )


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Who is calling, from an API key or a session; kept on connection.state.principal."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        if token.startswith(KEY_PREFIX + "_"):
            principal = await _key_principal(connection, token)
        else:
            principal = await _session_principal(connection, token)
    elif cookie := connection.cookies.get(SESSION_COOKIE):
        principal = await _session_principal(connection, cookie)
        check_csrf(connection)
    else:
        raise Unauthorized(
            "This route needs an API key (Authorization: Bearer <key>) or a signed-in session."
        )
    connection.state.principal = principal
    return principal


def admits(principal: Principal, admitted: frozenset[Role], method: str) -> bool:
    """Whether the role opens the route. A viewer reads what an officer reads."""
    if principal.role in admitted:
        return True
    return principal.role is Role.VIEWER and Role.OFFICER in admitted and method in SAFE_METHODS


async def _tree(
    connection: ASGIConnection[Any, Any, Any, Any], tenant_id: uuid.UUID
) -> dict[str, str | None]:
    tree = recent_trees.get(tenant_id)
    if tree is None:
        async with services(connection).db.tenant_session(tenant_id) as session:
            tree = await CatalogService(session).agency_parents()
        recent_trees.put(tenant_id, tree)
    return tree


def requires(*roles: Role) -> Guard:
    """Admit a caller of one of these roles, belonging to the route's tenant."""
    admitted = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        slug = connection.path_params.get("slug")
        if slug is not None:
            tenant = await services(connection).directory.by_slug(slug)
            if tenant is None:
                raise NotFound(f"No province is served at '{slug}'.")
            if principal.tenant_id != tenant.id:
                raise Forbidden("This key does not belong to this province.")
            if tenant.suspended:
                raise Forbidden("This province is suspended; staff routes are closed.")
            if needs_tree(principal):
                connection.state.scope = scope_of(principal, await _tree(connection, tenant.id))
        if not admits(principal, admitted, _method(connection)):
            allowed = ", ".join(sorted(admitted))
            raise Forbidden(f"This route is for the roles: {allowed}.")

    guard.__qualname__ = f"requires({', '.join(sorted(admitted))})"
    return guard


operator_only = requires(Role.OPERATOR)


async def open_province(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Nobody signs in to a suspended province (its staff routes are closed anyway): a clear
    403 rather than a session that opens nothing."""
    slug = connection.path_params.get("slug")
    if slug is None:
        return
    tenant = await services(connection).directory.by_slug(slug)
    if tenant is not None and tenant.suspended:
        raise Forbidden("This province is suspended; its staff cannot sign in.")


# Marks a route that anyone may call (citizens): every route declares its access rule.
public = {"access": "public"}
