"""Inbound events, stored first: the hook writes each event a provider posted (its own id
the key, so a retry is recognised and ignored) and the worker handles it after the commit."""

from __future__ import annotations

import logging
import unicodedata
import uuid
from collections.abc import Sequence

from arq.connections import ArqRedis
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.conversations.models import ReceivedEvent
from motcua.db import current_tenant
from motcua.notices.channel import InboundEvent

log = logging.getLogger(__name__)

KINDS = frozenset({"follow", "unfollow", "text", "shared_info"})


def job_id(tenant_id: str, channel: str, event_id: str) -> str:
    return f"inbound:{tenant_id}:{channel}:{event_id}"


async def enqueue_handling(
    queue: ArqRedis, tenant_id: str, slug: str, channel: str, event_id: str
) -> None:
    await queue.enqueue_job(
        "handle_inbound_event",
        tenant_id,
        slug,
        channel,
        event_id,
        _job_id=job_id(tenant_id, channel, event_id),
    )


def _clean(text: str) -> str:
    # NUL cannot be stored in PostgreSQL text; everything else the citizen wrote is kept.
    return unicodedata.normalize("NFC", text).replace("\x00", "")


async def store_events(
    session: AsyncSession, slug: str, channel: str, events: Sequence[InboundEvent]
) -> int:
    """Write the new events; answer how many were new. Each new one is queued for the
    worker once the request's transaction commits (the relay finds it if Redis is down)."""
    tenant_id = current_tenant(session)
    new: list[str] = []
    for event in events:
        if event.kind not in KINDS or not event.sender or not event.event_id:
            continue
        details = {k: v for k, v in (("phone", event.phone), ("name", event.name)) if v}
        stored = await session.execute(
            insert(ReceivedEvent)
            .values(
                tenant_id=tenant_id,
                channel=channel,
                event_id=_clean(event.event_id)[:200],
                kind=event.kind,
                sender=_clean(event.sender)[:200],
                text=_clean(event.text),
                details={k: _clean(v)[:200] for k, v in details.items()},
                status="received",
                error="",
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "channel", "event_id"])
            .returning(ReceivedEvent.event_id)
        )
        event_id = stored.scalar()
        if event_id is not None:
            new.append(event_id)
    _enqueue_after_commit(session, tenant_id, slug, channel, new)
    return len(new)


def _enqueue_after_commit(
    session: AsyncSession, tenant_id: uuid.UUID, slug: str, channel: str, event_ids: list[str]
) -> None:
    queue = session.info.get("queue")
    if queue is None or not event_ids:
        return

    async def enqueue() -> None:
        try:
            for event_id in event_ids:
                await enqueue_handling(queue, str(tenant_id), slug, channel, event_id)
        except Exception:  # Redis down: the relay finds them
            log.warning("inbound events left to the relay", exc_info=True)

    session.info.setdefault("after_commit", []).append(enqueue)
