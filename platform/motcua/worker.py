"""The background worker: arq functions of every domain, and their shared context."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from arq import cron, func
from arq.worker import Worker

from motcua.broadcasts import jobs as broadcasts
from motcua.conversations import jobs as conversations
from motcua.db import Database
from motcua.dossiers import jobs as dossiers
from motcua.notices.connections import ProviderConnections
from motcua.notices.delivery import Deliverer
from motcua.notices.jobs import (
    LANES,
    apply_receipt_job,
    deliver_notice,
    deliver_turn,
    lane_queue,
    relay_notices,
)
from motcua.notices.vault import Vault
from motcua.queue import redis_settings
from motcua.settings import Settings


def heartbeat_key(queue_name: str) -> str:
    return f"{queue_name}:worker:heartbeat"


async def heartbeat(ctx: dict[str, Any]) -> str:
    """Proves the worker is alive and consuming the queue; health probes read the key."""
    now = datetime.now(UTC).isoformat()
    await ctx["redis"].set(heartbeat_key(ctx["settings"].queue_name), now, ex=180)
    return now


def build_worker(
    settings: Settings,
    *,
    handle_signals: bool = True,
    lane: str = "dossier",
    stop_grace: int = 0,
) -> Worker:
    """The worker of one lane: dossier notices (and the crons), or bulk sends."""
    assert settings.database_url and settings.redis_url, "addresses are resolved before"

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        # Jobs pick their lane's queue from the platform's name; the bulk worker's own
        # would send a held-back bulk notice to "…:bulk:bulk", where nobody listens.
        ctx["redis"].default_queue_name = settings.queue_name
        ctx["db"] = Database.for_settings(settings)
        ctx["connections"] = ProviderConnections(settings.provider_connections)
        ctx["deliverer"] = Deliverer(
            ctx["db"],
            ctx["connections"],
            Vault.for_settings(settings),
            receipt_base=f"{settings.base_url}/t",
            redis=ctx["redis"],
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "connections" in ctx:
            await ctx["connections"].aclose()
        if "db" in ctx:
            await ctx["db"].dispose()

    deliveries = [
        # Short time-outs: a killed worker's job comes back only after its time-out,
        # and the relay re-queues anything stuck sooner than that.
        func(deliver_notice, timeout=30, keep_result=0, max_tries=1),
        func(deliver_turn, timeout=30, keep_result=0, max_tries=1),
        func(deliver_turn, timeout=30, keep_result=0, max_tries=1),
        func(apply_receipt_job, timeout=30, keep_result=0, max_tries=1),
    ]
    dossier_lane = lane == "dossier"
    return Worker(
        functions=[
            heartbeat,
            *deliveries,
            func(relay_notices, timeout=60, keep_result=0),
            *conversations.FUNCTIONS,
        ]
        if dossier_lane
        else [*deliveries, *broadcasts.FUNCTIONS],
        cron_jobs=[
            cron(heartbeat, second={0, 30}, run_at_startup=True),
            cron(
                relay_notices,
                second=set(range(0, 60, 5)),
                run_at_startup=True,
                unique=True,
                timeout=60,
            ),
            *conversations.CRONS,
            *dossiers.CRONS,
        ]
        if dossier_lane
        else broadcasts.CRONS,
        max_jobs=settings.worker_concurrency,
        poll_delay=0.05 if dossier_lane else 0.5,  # a citizen waits on the dossier lane
        redis_settings=redis_settings(settings.redis_url),
        queue_name=lane_queue(settings.queue_name, lane),
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=handle_signals,
        # On a stop signal: no new job, those in hand get this long, the rest are handed back.
        job_completion_wait=stop_grace,
        health_check_key=f"{lane_queue(settings.queue_name, lane)}:health-check",
    )


async def finish_jobs(workers: Sequence[Worker], grace: float) -> None:
    """No lane takes a new job; the jobs in hand get up to ``grace`` seconds to end. What
    still runs then is cancelled by ``close()``: arq puts it back, the relay sends again."""
    for worker in workers:
        worker.allow_pick_jobs = False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    # Read again after each wait: a job being started as the lanes stopped is in hand too.
    while (left := deadline - loop.time()) > 0 and (
        in_hand := [task for worker in workers for task in worker.tasks.values() if not task.done()]
    ):
        await asyncio.wait(in_hand, timeout=left)


async def run_lanes(settings: Settings, *, grace: int = 0) -> None:
    """Both lanes in one process until SIGINT or SIGTERM. Then no lane takes a new job; jobs in
    hand get ``grace`` seconds to finish, and those still running are cancelled: arq puts them
    back, and the relay sends their notices again."""
    workers = [
        build_worker(settings, handle_signals=False, lane=lane, stop_grace=grace) for lane in LANES
    ]
    loop = asyncio.get_running_loop()

    def stop(signum: signal.Signals) -> None:
        for worker in workers:
            if grace:
                worker.handle_sig_wait_for_completion(signum)
            else:
                worker.handle_sig(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    # async_run, not main: a stop signal ends a run by cancelling its main task. Each lane
    # ends on its own, so the first to stop does not cut short the other's grace.
    runs = [asyncio.ensure_future(worker.async_run()) for worker in workers]
    try:
        done, _ = await asyncio.wait(runs, return_when=asyncio.FIRST_EXCEPTION)
        for run in done:
            failure = None if run.cancelled() else run.exception()
            if failure is not None:
                raise failure
    finally:
        for worker in workers:
            await worker.close()
