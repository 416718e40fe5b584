"""create_app(): assembles plugins, routers and middleware; nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

from arq.connections import ArqRedis
from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.response_cache import ResponseCacheConfig, default_do_cache_predicate
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.stores.memory import MemoryStore
from litestar.types import HTTPScope
from redis.asyncio import Redis

from motcua.audit.routes import PlatformAudit, TenantAudit
from motcua.audit.trail import AuditScope, begin_request
from motcua.auth.guards import public
from motcua.auth.routes import TenantKeys, provide_keys
from motcua.auth.signin_routes import (
    OperatorSignIn,
    SignIn,
    StaffAdmin,
    provide_providers,
    provide_staff,
)
from motcua.broadcasts.routes import (
    Areas,
    Broadcasts,
    CitizenSubscriptions,
    Topics,
    provide_broadcasts,
    provide_subscriptions,
)
from motcua.catalog.routes import Agencies, Procedures, provide_catalog
from motcua.conversations.routes import ChatCitizens, Threads, provide_threads
from motcua.db import Database
from motcua.dossiers.routes import Dossiers, Tracking, provide_dossiers
from motcua.dossiers.tracking import TrackingReader
from motcua.health import healthz, readyz
from motcua.logs import RequestLogging
from motcua.metrics import RequestMetrics
from motcua.notices.routes import Hooks, Notices, provide_notices
from motcua.problem_details import EXCEPTION_HANDLERS
from motcua.queue import connect
from motcua.reports.routes import Reports
from motcua.security.headers import SecurityHeaders
from motcua.security.limits import CountingStore, rate_limits
from motcua.settings import Settings
from motcua.state import Services
from motcua.tenancy.directory import TenantDirectory
from motcua.tenancy.resolve import TENANT_PREFIX, HostRouting, provide_session, provide_tenant
from motcua.tenancy.routes import PlatformTenants
from motcua.tenancy.service import TenantService
from motcua.web.pages import static_files, template_config

# Each domain's tenant controllers; all live under /t/{slug} (and a tenant's own domain).
TENANT_ROUTES: list[Any] = [
    Procedures,
    Agencies,
    TenantKeys,
    SignIn,
    StaffAdmin,
    Dossiers,
    Tracking,
    Notices,
    Hooks,
    Topics,
    Areas,
    Broadcasts,
    CitizenSubscriptions,
    TenantAudit,
    Threads,
    ChatCitizens,
    Reports,
]


class Metrics(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    # Scraped inside the cluster; the ingress does not route it (docs/security.md).
    opt = public


async def _sweep_response_cache(app: Litestar, every: int) -> None:
    """Drop expired cached answers, so the in-memory cache stays bounded by its lifetime."""
    store = app.response_cache_config.get_store_from_app(app)
    while isinstance(store, MemoryStore):
        await asyncio.sleep(every)
        await store.delete_expired()


def _response_cache(seconds: int) -> ResponseCacheConfig:
    def wanted(scope: HTTPScope, status: int) -> bool:
        return seconds > 0 and default_do_cache_predicate(scope, status)

    return ResponseCacheConfig(default_expiration=max(seconds, 1), cache_response_filter=wanted)


def _provide_queue(state: State) -> ArqRedis:
    queue: ArqRedis = state.services.queue
    return queue


def create_app(
    settings: Settings, *, with_worker: bool = False, worker_grace: float = 0
) -> Litestar:
    assert settings.database_url and settings.redis_url, "resolve addresses before create_app"
    db = Database.for_settings(settings)
    directory = TenantDirectory(db)
    # One for the app, as a dependency without parameters: the busiest route resolves it
    # with nothing to parse and no task group to start.
    tracking = TrackingReader(db, directory)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        queue = await connect(settings.redis_url or "", settings.queue_name)
        app.state.services = Services(settings=settings, db=db, queue=queue, directory=directory)
        # What exists by now lives as long as the process. Frozen, it is left out of the
        # full collections, which walked it all: pauses of ~100 ms about once a second under
        # load, the requests in flight waiting them out.
        gc.freeze()
        sweeper = asyncio.create_task(
            _sweep_response_cache(app, max(settings.response_cache_seconds, 1))
        )
        workers = []
        if with_worker:
            from motcua.notices.jobs import LANES
            from motcua.worker import build_worker, finish_jobs

            workers = [build_worker(settings, handle_signals=False, lane=lane) for lane in LANES]
        tasks = [asyncio.create_task(worker.async_run()) for worker in workers]
        try:
            yield
        finally:
            if workers:
                # After the server's own grace for requests: the jobs in hand get theirs.
                await finish_jobs(workers, worker_grace)
            for worker, task in zip(workers, tasks, strict=True):
                await worker.close()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            sweeper.cancel()
            await queue.aclose()
            await db.dispose()

    prometheus = PrometheusConfig(
        app_name="motcua",
        prefix="motcua",
        group_path=True,
        middleware_class=RequestMetrics,  # labels by route template and tenant
        exclude=["/metrics", "/healthz", "/readyz"],
    )
    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            Metrics,
            PlatformTenants,
            OperatorSignIn,
            PlatformAudit,
            static_files,
            Router(path=TENANT_PREFIX, route_handlers=TENANT_ROUTES),
        ],
        dependencies={
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "db": Provide(lambda: db, sync_to_thread=False),
            "directory": Provide(lambda: directory, sync_to_thread=False),
            "tracking": Provide(lambda: tracking, sync_to_thread=False),
            "tenants": Provide(lambda: TenantService(db), sync_to_thread=False),
            "queue": Provide(_provide_queue, sync_to_thread=False),
            "tenant": Provide(provide_tenant),
            "session": Provide(provide_session),
            "keys": Provide(provide_keys),
            "staff": Provide(provide_staff, sync_to_thread=False),
            "providers": Provide(provide_providers, sync_to_thread=False),
            "catalog": Provide(provide_catalog, sync_to_thread=False),
            "dossiers": Provide(provide_dossiers, sync_to_thread=False),
            "notices": Provide(provide_notices, sync_to_thread=False),
            "subscriptions": Provide(provide_subscriptions, sync_to_thread=False),
            "broadcasts": Provide(provide_broadcasts, sync_to_thread=False),
            "threads": Provide(provide_threads, sync_to_thread=False),
        },
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[prometheus.middleware, AuditScope, *rate_limits(settings)],
        before_request=begin_request,
        request_max_body_size=settings.max_body_bytes,
        response_cache_config=_response_cache(settings.response_cache_seconds),
        template_config=template_config(),
        stores={
            # From our own client: with_client() mishandles unix:// (the embedded Redis).
            "rate_limit": CountingStore(
                redis=Redis.from_url(settings.redis_url),
                namespace=f"{settings.queue_name}:rate",
            )
        },
        compression_config=CompressionConfig(
            backend="gzip",
            minimum_size=1024,
            # Tracking JSON is a few hundred bytes and the busiest route: not even a pass.
            exclude=[r"/api/v1/track/"],
        ),
        openapi_config=OpenAPIConfig(
            title="Một Cửa",
            version="1",
            description="The one-stop public-service platform for Vietnamese provinces.",
            path="/schema",
            # Public documentation: every route declares its access rule, these too.
            openapi_router=Router(path="/schema", route_handlers=[], opt=public),
            render_plugins=[ScalarRenderPlugin()],
            components=Components(
                security_schemes={"api_key": SecurityScheme(type="http", scheme="bearer")}
            ),
        ),
        logging_config=None,  # logs.configure_logging owns the format: JSON lines
        debug=False,
    )
    # Outside Litestar's router: requests are rewritten by host and logged before routing.
    app.asgi_handler = SecurityHeaders(
        HostRouting(RequestLogging(app.asgi_handler), directory, set(settings.platform_hosts)),
        tls=settings.https,
    )
    return app
