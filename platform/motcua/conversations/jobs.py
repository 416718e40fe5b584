"""The worker's conversation jobs: handle one stored inbound event; the relay that finds
events whose job was lost (Redis down when the hook committed, a worker killed)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from arq import cron, func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.conversations import identity
from motcua.conversations.inbound import enqueue_handling
from motcua.conversations.models import ChatCitizen, ReceivedEvent
from motcua.conversations.service import ConversationService
from motcua.db import Database
from motcua.dossiers.service import Links
from motcua.tenancy.directory import TenantDirectory
from motcua.tenancy.models import Tenant

log = logging.getLogger(__name__)

RELAY_AFTER: Final = timedelta(seconds=10)  # still "received" this long after: its job was lost
RELAY_BATCH: Final = 500


async def handle_inbound_event(
    ctx: dict[str, Any], tenant_id: str, slug: str, channel: str, event_id: str
) -> str:
    db: Database = ctx["db"]
    directory: TenantDirectory = ctx.setdefault("directory", TenantDirectory(db))
    tenant = await directory.by_slug(slug)
    if tenant is None or str(tenant.id) != tenant_id:
        return "no-tenant"
    settings = ctx["settings"]
    links = Links(
        base_url=settings.base_url,
        tenant=tenant,
        use_tenant_domain=settings.https,
    )
    async with db.tenant_session(tenant.id) as session:
        session.info["queue"] = ctx["redis"]
        sender = await session.scalar(
            select(ReceivedEvent.sender).where(
                ReceivedEvent.channel == channel,
                ReceivedEvent.event_id == event_id,
                ReceivedEvent.status == "received",
            )
        )
        if sender is None:
            return "skipped"  # handled already (with an earlier one of its sender's), or erased
        # One sender's events one after another, in the order they arrived, whichever job
        # gets the citizen's lock first: a later message never overtakes an earlier one.
        citizen = await identity.citizen_for(session, channel, sender)
        waiting = (
            await session.scalars(
                select(ReceivedEvent)
                .where(
                    ReceivedEvent.channel == channel,
                    ReceivedEvent.sender == sender,
                    ReceivedEvent.status == "received",
                )
                .order_by(ReceivedEvent.created_at, ReceivedEvent.event_id)
                .execution_options(populate_existing=True)
            )
        ).all()
        if not waiting:
            await session.rollback()  # erased meanwhile: no citizen is made again
            return "skipped"
        conversation = ConversationService(session, tenant, links)
        for event in waiting:
            if not await _handle(session, conversation, event, citizen):
                break  # erased, with the rest of their events
        await session.commit()
        for after_commit in session.info.pop("after_commit", []):
            await after_commit()
    return "handled"


async def _handle(
    session: AsyncSession,
    conversation: ConversationService,
    event: ReceivedEvent,
    citizen: ChatCitizen,
) -> bool:
    """One event, in its own savepoint; False when it erased the citizen."""
    try:
        async with session.begin_nested():
            outcome = await conversation.handle(event, citizen)
    except Exception as exc:
        # Kept, marked and logged: a bug must not make the worker retry it forever.
        log.exception("inbound event could not be handled", extra={"channel": event.channel})
        event.status, event.error = "failed", f"{type(exc).__name__}"[:500]
        event.handled_at = datetime.now(UTC)
        return True
    if outcome.erased:
        return False
    event.status, event.handled_at = "handled", datetime.now(UTC)
    return True


async def relay_inbound_events(ctx: dict[str, Any]) -> int:
    db: Database = ctx["db"]
    before = datetime.now(UTC) - RELAY_AFTER
    queued = 0
    async with db.platform_session() as session:
        tenants = (await session.execute(select(Tenant.id, Tenant.slug))).all()
    for tenant_id, slug in tenants:
        async with db.tenant_session(tenant_id) as session:
            rows = (
                await session.execute(
                    select(ReceivedEvent.channel, ReceivedEvent.event_id)
                    .where(ReceivedEvent.status == "received", ReceivedEvent.created_at < before)
                    .order_by(ReceivedEvent.created_at)
                    .limit(RELAY_BATCH)
                )
            ).all()
        for channel, event_id in rows:
            await enqueue_handling(ctx["redis"], str(tenant_id), slug, channel, event_id)
            queued += 1
    return queued


# What the worker's dossier lane runs (worker.py registers these).
FUNCTIONS: Final = [
    func(handle_inbound_event, timeout=30, keep_result=0, max_tries=3),
    func(relay_inbound_events, timeout=60, keep_result=0),
]
CRONS: Final = [
    cron(relay_inbound_events, second={7, 37}, run_at_startup=True, unique=True, timeout=60)
]
