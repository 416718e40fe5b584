"""The bulk worker's broadcast jobs: fan a broadcast out at its time, and a cron that
starts what is due and resumes a fan-out whose worker died."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Final

from arq import cron, func
from arq.connections import ArqRedis
from sqlalchemy import select

from motcua.broadcasts import broadcasting
from motcua.broadcasts.broadcasting import Sender, due_broadcasts, fan_out_batch
from motcua.broadcasts.links import signing_keys
from motcua.db import Database
from motcua.notices.jobs import lane_queue
from motcua.notices.turns import queue_in_turn
from motcua.settings import Settings
from motcua.tenancy.models import Tenant

log = logging.getLogger(__name__)

STALLED_AFTER: Final = timedelta(seconds=60)  # no batch for this long: the fan-out died


async def enqueue_fan_out(
    queue: ArqRedis, tenant_id: str, broadcast_id: str, at: datetime | None = None
) -> None:
    # One job per broadcast at a time (arq keeps the id while it is queued or running);
    # two at once would still be safe: batches take the broadcast's row lock.
    await queue.enqueue_job(
        "fan_out_broadcast",
        tenant_id,
        broadcast_id,
        _job_id=f"broadcast:{broadcast_id}",
        _defer_until=at,
        _queue_name=lane_queue(queue.default_queue_name, "bulk"),
    )


def _notice_queue(ctx: dict[str, Any]) -> ArqRedis:
    """The worker's Redis named by the platform's queue: notices pick their lane from it."""
    settings: Settings = ctx["settings"]
    redis: ArqRedis = ctx["redis"]
    return ArqRedis(redis.connection_pool, default_queue_name=settings.queue_name)


async def fan_out_broadcast(ctx: dict[str, Any], tenant_id: str, broadcast_id: str) -> int:
    """Every batch of the broadcast, each in its own transaction; notices are queued after
    each commit (only their ids travel through Redis)."""
    db: Database = ctx["db"]
    settings: Settings = ctx["settings"]
    tenant, ident = uuid.UUID(tenant_id), uuid.UUID(broadcast_id)
    async with db.platform_session() as session:
        found = (
            await session.execute(select(Tenant.slug, Tenant.name).where(Tenant.id == tenant))
        ).first()
    if found is None:
        return 0
    sender = Sender(
        province=found.name,
        unsubscribe_base=f"{settings.base_url}/t/{found.slug}/unsubscribe",
        keys=signing_keys(settings),
    )
    queue = _notice_queue(ctx)
    batches = 0
    more = True
    while more:
        async with db.tenant_session(tenant) as session:
            batch = await fan_out_batch(session, ident, sender, broadcasting.BATCH)
            await session.commit()
        more = batch.more
        await _enqueue_deliveries(queue, tenant_id, found.slug, batch.notices)
        batches += 1
    return batches


async def _enqueue_deliveries(
    queue: ArqRedis, tenant_id: str, slug: str, notices: list[str]
) -> None:
    """A batch's notices wait in the province's line of the bulk lane (notices/turns.py)."""
    try:
        name = lane_queue(queue.default_queue_name, "bulk")
        await queue_in_turn(queue, name, tenant_id, slug, notices)
    except Exception:  # Redis down: the relay finds the notices in the database
        log.warning("broadcast notices left to the relay", exc_info=True)


async def start_due_broadcasts(ctx: dict[str, Any]) -> int:
    """What the deferred jobs missed (Redis lost them) or a dead worker left half done."""
    db: Database = ctx["db"]
    queue = _notice_queue(ctx)
    started = 0
    async with db.platform_session() as session:
        tenants = (await session.scalars(select(Tenant.id))).all()
    for tenant_id in tenants:
        async with db.tenant_session(tenant_id) as session:
            due = await due_broadcasts(session, STALLED_AFTER)
        for broadcast_id in due:
            await enqueue_fan_out(queue, str(tenant_id), str(broadcast_id))
            started += 1
    return started


# Registered in the bulk lane's worker (motcua/worker.py).
FUNCTIONS: Final = [
    # Long: one job writes every batch; a dead worker's fan-out is resumed by the cron.
    func(fan_out_broadcast, timeout=3600, keep_result=0, max_tries=1),
    func(start_due_broadcasts, timeout=60, keep_result=0, max_tries=1),
]
CRONS: Final = [
    cron(
        start_due_broadcasts,
        second=set(range(0, 60, 10)),
        run_at_startup=True,
        unique=True,
        timeout=60,
    )
]
