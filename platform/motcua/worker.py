"""The background worker: arq functions of every domain, and their shared context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from arq import cron, func
from arq.worker import Worker

from motcua.db import Database
from motcua.notices.delivery import Deliverer
from motcua.notices.jobs import apply_receipt_job, deliver_notice, relay_notices
from motcua.notices.vault import Vault
from motcua.queue import redis_settings
from motcua.settings import Settings

HEARTBEAT_KEY = "motcua:worker:heartbeat"


async def heartbeat(ctx: dict[str, Any]) -> str:
    """Proves the worker is alive and consuming the queue; health probes read the key."""
    now = datetime.now(UTC).isoformat()
    await ctx["redis"].set(HEARTBEAT_KEY, now, ex=180)
    return now


def build_worker(settings: Settings, *, handle_signals: bool = True) -> Worker:
    assert settings.database_url and settings.redis_url, "addresses are resolved before"

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["db"] = Database(
            settings.database_url or "",
            role=settings.database_role,
            pool_size=settings.database_pool_size,
        )
        ctx["http"] = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=5.0), limits=httpx.Limits(max_connections=200)
        )
        ctx["deliverer"] = Deliverer(
            ctx["db"],
            ctx["http"],
            Vault.for_settings(settings),
            receipt_base=f"{settings.base_url}/t",
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "http" in ctx:
            await ctx["http"].aclose()
        if "db" in ctx:
            await ctx["db"].dispose()

    return Worker(
        functions=[
            heartbeat,
            # Short time-outs: a killed worker's job comes back only after its time-out,
            # and the relay re-queues anything stuck sooner than that.
            func(deliver_notice, timeout=30, keep_result=0, max_tries=1),
            func(apply_receipt_job, timeout=30, keep_result=0, max_tries=1),
            func(relay_notices, timeout=60, keep_result=0),
        ],
        cron_jobs=[
            cron(heartbeat, second={0, 30}, run_at_startup=True),
            cron(
                relay_notices,
                second=set(range(0, 60, 5)),
                run_at_startup=True,
                unique=True,
                timeout=60,
            ),
        ],
        max_jobs=settings.worker_concurrency,
        redis_settings=redis_settings(settings.redis_url),
        queue_name=settings.queue_name,
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=handle_signals,
        health_check_key=f"{settings.queue_name}:health-check",
    )
