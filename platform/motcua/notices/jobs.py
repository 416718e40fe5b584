"""The worker's notice jobs: deliver, apply receipts, and the relay that lets nothing drop."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
from arq.connections import ArqRedis
from redis.exceptions import RedisError
from sqlalchemy import select, update

from motcua.db import Database
from motcua.notices.channel import Receipt
from motcua.notices.delivery import Deliverer, Next, sweep_condition
from motcua.notices.models import Notice
from motcua.notices.receipts import apply_receipt
from motcua.notices.turns import give_back, take_turn, waiting
from motcua.tenancy.models import Tenant

log = logging.getLogger(__name__)

RECEIPT_RETRY = timedelta(seconds=10)
RECEIPT_PATIENCE = 30  # tries: about five minutes
RELAY_BATCH = 1000
RELAY_GRACE = timedelta(seconds=5)  # due this long ago and still waiting: its job was lost
STALE_PER_TURN = 100  # ids of notices already handled that one turn may pass over
RELAY_EVERY = 30  # seconds: how often the relay may queue the same lost attempt again


async def enqueue_delivery(
    queue: ArqRedis,
    tenant_id: str,
    notice_id: str,
    slug: str = "",
    attempts: int = 0,
    at: datetime | None = None,
    relay: str = "",  # a suffix for a job id that may still be taken (see the relay)
    lane: str = "dossier",
) -> None:
    # One job id per attempt, so a retry is never queued twice. A job queued twice anyway
    # is harmless: only one can claim the notice.
    await queue.enqueue_job(
        "deliver_notice",
        tenant_id,
        notice_id,
        slug,
        _job_id=f"deliver:{notice_id}:{attempts}{relay}",
        _defer_until=at,
        _queue_name=lane_queue(queue.default_queue_name, lane),
    )


LANES: Final = ("dossier", "bulk")


def lane_queue(queue_name: str, lane: str) -> str:
    """Dossier notices have a queue of their own: a province's bulk send never holds them."""
    return queue_name if lane == "dossier" else f"{queue_name}:{lane}"


async def deliver_turn(ctx: dict[str, Any], queue_name: str) -> str:
    """A lane's turn (notices/turns.py): the next province in the ring, its oldest notices,
    delivered together. Notices already handled another way (the relay) do not use it up."""
    for _ in range(STALE_PER_TURN):
        taken = await take_turn(ctx["redis"], queue_name)
        if taken is None:
            return "no notice waiting"
        tenant_id, line_slug, notice_ids = taken
        # The outbox queues without the slug (its session knows the tenant only).
        slug = line_slug or await _slug(ctx["db"], uuid.UUID(tenant_id))
        deliverer: Deliverer = ctx["deliverer"]
        try:
            steps = await deliverer.deliver_many(
                uuid.UUID(tenant_id), [uuid.UUID(n) for n in notice_ids], slug
            )
        except asyncio.CancelledError:  # a stopping worker: arq queues the turn again
            await asyncio.shield(
                give_back(ctx["redis"], queue_name, tenant_id, line_slug, notice_ids)
            )
            raise
        for step in steps:
            await _follow_up(ctx, tenant_id, slug, step)
        if steps:
            return f"{len(steps)} notices"
    return "skipped"


async def deliver_notice(
    ctx: dict[str, Any], tenant_id: str, notice_id: str, slug: str = ""
) -> str:
    deliverer: Deliverer = ctx["deliverer"]
    tenant, notice = uuid.UUID(tenant_id), uuid.UUID(notice_id)
    slug = slug or await _slug(ctx["db"], tenant)
    step = await deliverer.deliver(tenant, notice, slug)
    if step.notice is None:
        return "skipped"  # sent already, in flight elsewhere, or not due yet
    await _follow_up(ctx, tenant_id, slug, step)
    return str(step.notice.status)


async def _follow_up(ctx: dict[str, Any], tenant_id: str, slug: str, step: Next) -> None:
    """What an attempt leaves to do: the simulator's receipt, or the next try's job."""
    row = step.notice
    if row is None:
        return
    notice_id = str(row.id)
    if row.test and row.status == "sent":
        # Test mode: the simulator's receipt takes the providers' path.
        receipt = Receipt(delivered=True, notice_id=notice_id, provider_id=row.provider_id)
        await ctx["redis"].enqueue_job(
            "apply_receipt_job", tenant_id, msgspec.to_builtins(receipt), 0
        )
    if step.at is not None:
        # A held-back attempt keeps its number: its job needs another id than this one's.
        suffix = f":held{int(step.at.timestamp() * 1000)}" if step.held else ""
        await enqueue_delivery(
            ctx["redis"],
            tenant_id,
            notice_id,
            slug,
            row.attempts,
            step.at,
            relay=suffix,
            lane=row.lane,
        )


async def apply_receipt_job(
    ctx: dict[str, Any], tenant_id: str, receipt: dict[str, Any], tries: int
) -> bool:
    settled = await apply_receipt(
        ctx["db"], uuid.UUID(tenant_id), msgspec.convert(receipt, Receipt)
    )
    if not settled and tries < RECEIPT_PATIENCE:
        await ctx["redis"].enqueue_job(
            "apply_receipt_job", tenant_id, receipt, tries + 1, _defer_by=RECEIPT_RETRY
        )
    return settled


async def relay_notices(ctx: dict[str, Any]) -> int:
    """Re-queue what is due and not in flight; end sends whose worker died. Nothing a citizen
    is owed stays behind a Redis outage or a crash between commit and enqueue."""
    db: Database = ctx["db"]
    stuck_after = timedelta(seconds=ctx["settings"].notice_stuck_seconds)
    now = datetime.now(UTC)
    queued = 0
    async with db.platform_session() as session:
        tenants = (await session.execute(select(Tenant.id, Tenant.slug))).all()
    # A job lost with a dead worker keeps its id in Redis for a while: relay under a new one.
    relay = f":relay{int(now.timestamp()) // RELAY_EVERY}"
    for tenant_id, slug in tenants:
        # A province with a line is being served by turns: its first attempts are in that
        # line, not lost, and a job each would only double the work. The relay takes them
        # up once the line is empty (or when Redis cannot say).
        in_line = await _lanes_in_line(ctx, str(tenant_id), slug)
        async with db.tenant_session(tenant_id) as session:
            await session.execute(
                update(Notice)
                .where(sweep_condition(now, stuck_after))
                .values(status="created", next_attempt_at=Notice.claimed_at)
            )
            due = (
                await session.execute(
                    select(Notice.id, Notice.attempts, Notice.lane)
                    .where(
                        Notice.status == "created",
                        Notice.next_attempt_at <= now - RELAY_GRACE,
                        ~(Notice.lane.in_(in_line) & (Notice.attempts == 0)),
                    )
                    .order_by(Notice.next_attempt_at)
                    .limit(RELAY_BATCH)
                )
            ).all()
            await session.commit()
        for notice_id, attempts, lane in due:
            await enqueue_delivery(
                ctx["redis"],
                str(tenant_id),
                str(notice_id),
                slug,
                attempts,
                relay=relay,
                lane=lane,
            )
            queued += 1
    return queued


async def _lanes_in_line(ctx: dict[str, Any], tenant_id: str, slug: str) -> list[str]:
    queue_name = ctx["settings"].queue_name
    try:
        return [
            lane
            for lane in LANES
            if await waiting(ctx["redis"], lane_queue(queue_name, lane), tenant_id, slug)
        ]
    except RedisError:
        return []


_slugs: dict[uuid.UUID, str] = {}  # a province's slug never changes


async def _slug(db: Database, tenant_id: uuid.UUID) -> str:
    if tenant_id not in _slugs:
        async with db.platform_session() as session:
            slug = await session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))
        if slug is None:
            return ""
        _slugs[tenant_id] = slug
    return _slugs[tenant_id]
