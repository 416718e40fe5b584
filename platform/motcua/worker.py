"""The background worker: arq functions of every domain, and their shared context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from arq import cron
from arq.worker import Worker

from motcua.db import Database
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

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "db" in ctx:
            await ctx["db"].dispose()

    return Worker(
        functions=[heartbeat],
        cron_jobs=[cron(heartbeat, second={0, 30}, run_at_startup=True)],
        redis_settings=redis_settings(settings.redis_url),
        queue_name=settings.queue_name,
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=handle_signals,
        health_check_key=f"{settings.queue_name}:health-check",
    )
