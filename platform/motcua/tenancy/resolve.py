"""How a request finds its tenant: the ``/t/{slug}`` prefix, or the province's own domain.

Routes are declared once, under ``/t/{slug}``. A request on a tenant's own domain is
rewritten to that form before routing, so both reach the same handlers and the OpenAPI
schema documents one set of paths.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.trail import write_before_commit
from motcua.errors import NotFound
from motcua.logs import tenant_slug
from motcua.state import Services
from motcua.tenancy.directory import TenantDirectory, TenantRef

log = logging.getLogger(__name__)

TENANT_PREFIX = "/t/{slug:str}"
# The pages' own files are the platform's, the same for every province: a province's
# domain serves them as they are, not under its /t/{slug} routes.
SHARED_PREFIXES = ("/static/",)


def _host(scope: Scope) -> str:
    raw = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
    return raw.rsplit(":", 1)[0] if not raw.endswith("]") else raw


class HostRouting:
    """Rewrites requests on a tenant's domain to the ``/t/{slug}`` routes."""

    def __init__(self, app: ASGIApp, directory: TenantDirectory, platform_hosts: set[str]) -> None:
        self.app = app
        self.directory = directory
        self.platform_hosts = platform_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        slug = ""
        host = _host(scope)
        if path.startswith("/t/"):
            slug = path[3:].split("/", 1)[0]
        elif host and host not in self.platform_hosts and not path.startswith(SHARED_PREFIXES):
            try:
                tenant = await self.directory.by_host(host)
            except Exception:  # the database is down: the router still answers problems
                log.warning("tenant directory unavailable", exc_info=True)
                tenant = None
            if tenant is not None:
                slug = tenant.slug
                prefix = f"/t/{slug}"
                scope = {  # type: ignore[assignment]
                    **scope,
                    "path": prefix + path,
                    "raw_path": prefix.encode() + scope.get("raw_path", path.encode()),
                }
        token = tenant_slug.set(slug)
        try:
            await self.app(scope, receive, send)
        finally:
            tenant_slug.reset(token)


# The providers below take the app's shared objects from its state, not as dependencies:
# a staff route's dependencies then come one after another (tenant, session, service),
# which Litestar resolves without starting a task group for each batch.


async def provide_tenant(slug: FromPath[str], state: State) -> TenantRef:
    found: Services = state.services
    tenant = await found.directory.by_slug(slug)
    if tenant is None:
        raise NotFound(f"No province is served at '{slug}'.")
    return tenant


async def provide_session(
    tenant: NamedDependency[TenantRef], state: State
) -> AsyncIterator[AsyncSession]:
    """The request's tenant-scoped session: committed when the handler succeeds; then what
    waited for the commit (queueing notices) runs."""
    found: Services = state.services
    async with found.db.tenant_session(tenant.id) as session:
        session.info["queue"] = found.queue
        try:
            yield session
            await write_before_commit(session)  # the audit row, with the change
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        for after_commit in session.info.pop("after_commit", []):
            await after_commit()
