"""Broadcasts: an admin's news or policy message to a topic's subscribers in some areas.

The message becomes one notice per citizen, on the bulk lane, so the notice pipeline's
quotas, rates, daily caps and quiet hours apply to it as to everything else. Fan-out goes
in batches under the broadcast's row lock: a cancel waits for the batch in hand, then
cancels every notice not sent yet, and the next batch finds the broadcast cancelled."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.broadcasts.links import unsubscribe_token
from motcua.broadcasts.models import Area, Broadcast, Subscription, Topic
from motcua.broadcasts.schemas import (
    Audience,
    BroadcastIn,
    BroadcastOut,
    BroadcastPage,
    Counts,
    PreviewOut,
)
from motcua.broadcasts.service import SubscriptionService
from motcua.db import current_tenant
from motcua.db.deadlocks import retry_deadlocks
from motcua.errors import Conflict, Invalid, NotFound
from motcua.notices.channel import Address
from motcua.notices.models import Notice
from motcua.notices.outbox import channel_plan, new_notice

KIND: Final = "broadcast"
MAX_TEXT: Final = 2000  # what a Zalo message carries; SMS providers split longer texts
BATCH: Final = 500  # notices written per transaction
PAST_GRACE: Final = timedelta(minutes=1)  # a "now" that took a moment to arrive is not past
MAX_AHEAD: Final = timedelta(days=366)
WAITING: Final = ("created", "sending")


@dataclass(frozen=True)
class Sender:
    """What a fan-out needs to know of its province and platform."""

    province: str  # the province's name, as notices say it
    unsubscribe_base: str  # + "/{token}"
    keys: Sequence[bytes]


def clean_text(text: str) -> str:
    """NFC (Vietnamese typed on phones often arrives decomposed), no control characters
    but line breaks, no trailing spaces."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    kept = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    return "\n".join(line.rstrip() for line in kept.strip().split("\n"))


def _url_problem(field: str, url: str, *, https_only: bool) -> dict[str, str] | None:
    parts = urlsplit(url)
    schemes = ("https",) if https_only else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname or any(c.isspace() for c in url):
        wanted = "an https:// address" if https_only else "an http(s):// address"
        return {"field": field, "message": f"must be {wanted}"}
    if len(url) > 500:
        return {"field": field, "message": "must be at most 500 characters"}
    return None


def audience_filter(topic_slug: str, areas: Sequence[str]) -> ColumnElement[bool]:
    """Subscribers of the topic in any of the areas, and those of the whole province."""
    condition = Subscription.topic_slug == topic_slug
    if areas:
        condition = and_(
            condition, or_(Subscription.area_slug == "", Subscription.area_slug.in_(areas))
        )
    return condition


def broadcast_notices(broadcast_id: uuid.UUID) -> ColumnElement[bool]:
    return and_(Notice.kind == KIND, Notice.values["broadcast_id"].astext == str(broadcast_id))


class BroadcastService:
    def __init__(self, session: AsyncSession, timezone: str) -> None:
        self.session = session
        self.timezone = timezone
        self.subscriptions = SubscriptionService(session)

    async def _audience(self, topic: str, areas: Sequence[str]) -> tuple[Topic, list[Area]]:
        found = await self.subscriptions.topic(topic)
        places: dict[str, Area] = {}
        for name in areas:
            place = await self.subscriptions.area(name)
            places[place.slug] = place
        return found, list(places.values())

    async def preview(self, audience: Audience) -> PreviewOut:
        topic, areas = await self._audience(audience.topic, audience.areas)
        return PreviewOut(
            topic=topic.name,
            areas=[a.name for a in areas],
            recipients=await self._count(topic.slug, [a.slug for a in areas]),
        )

    async def _count(self, topic_slug: str, areas: Sequence[str]) -> int:
        return int(
            await self.session.scalar(
                select(func.count(func.distinct(Subscription.address_key))).where(
                    audience_filter(topic_slug, areas)
                )
            )
            or 0
        )

    async def create(self, data: BroadcastIn, *, test: bool = False) -> BroadcastOut:
        text = clean_text(data.text)
        problems = []
        if not text:
            problems.append({"field": "text", "message": "must not be empty"})
        elif len(text) > MAX_TEXT:
            problems.append({"field": "text", "message": f"must be at most {MAX_TEXT} characters"})
        link = data.link.strip() if data.link and data.link.strip() else None
        image = data.image_url.strip() if data.image_url and data.image_url.strip() else None
        for problem in (
            _url_problem("link", link, https_only=False) if link else None,
            _url_problem("image_url", image, https_only=True) if image else None,
        ):
            if problem:
                problems.append(problem)
        now = datetime.now(UTC)
        send_at = now
        if data.send_at is not None:
            send_at = data.send_at
            if send_at.tzinfo is None:
                send_at = send_at.replace(tzinfo=ZoneInfo(self.timezone))
            if send_at < now - PAST_GRACE:
                problems.append({"field": "send_at", "message": "is in the past"})
            elif send_at > now + MAX_AHEAD:
                problems.append({"field": "send_at", "message": "is more than a year ahead"})
        if problems:
            raise Invalid("The broadcast is not valid.", errors=problems)
        topic, areas = await self._audience(data.topic, data.areas)
        row = Broadcast(
            id=uuid.uuid4(),
            topic_slug=topic.slug,
            areas=[a.slug for a in areas],
            text=text,
            link=link,
            image_url=image,
            status="scheduled",
            send_at=max(send_at, now),
            test=test,
            recipients=0,
            cursor="",
        )
        self.session.add(row)
        await self.session.flush()
        start_after_commit(self.session, row)
        return (await self._out([row]))[0]

    async def get(self, broadcast_id: uuid.UUID) -> BroadcastOut:
        row = await self.session.get(Broadcast, (current_tenant(self.session), broadcast_id))
        if row is None:
            raise NotFound(f"No broadcast '{broadcast_id}'.")
        return (await self._out([row]))[0]

    async def page(self, status: str | None, page: int, per_page: int) -> BroadcastPage:
        query = select(Broadcast)
        if status:
            query = query.where(Broadcast.status == status)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (
            await self.session.scalars(
                query.order_by(Broadcast.created_at.desc(), Broadcast.id)
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
        ).all()
        return BroadcastPage(
            items=await self._out(list(rows)), page=page, per_page=per_page, total=total or 0
        )

    async def cancel(self, broadcast_id: uuid.UUID) -> BroadcastOut:
        # The lock waits for a fan-out batch in hand: its notices are cancelled with the rest.
        row = await self.session.get(
            Broadcast, (current_tenant(self.session), broadcast_id), with_for_update=True
        )
        if row is None:
            raise NotFound(f"No broadcast '{broadcast_id}'.")
        if row.status == "cancelled":
            raise Conflict("The broadcast is cancelled already.")
        now = datetime.now(UTC)

        async def cancel_waiting() -> list[uuid.UUID]:
            # A savepoint: the deliveries in flight lock some of these rows too; if this
            # statement is a deadlock's victim, it runs again, the broadcast still locked.
            async with self.session.begin_nested():
                cancelled = await self.session.execute(
                    update(Notice)
                    .where(broadcast_notices(row.id), Notice.status == "created")
                    .values(status="cancelled", last_error="broadcast cancelled")
                    .returning(Notice.id)
                )
                return list(cancelled.scalars())

        cancelled = await retry_deadlocks(cancel_waiting)
        if row.status == "sent" and not cancelled:
            raise Conflict("The broadcast has been sent already: nothing is left to cancel.")
        row.status, row.cancelled_at = "cancelled", now
        await self.session.flush()
        return (await self._out([row]))[0]

    async def _out(self, rows: list[Broadcast]) -> list[BroadcastOut]:
        counts: dict[uuid.UUID, dict[str, int]] = {row.id: {} for row in rows}
        if rows:
            broadcast_id = Notice.values["broadcast_id"].astext
            for ident, status, number in (
                await self.session.execute(
                    select(broadcast_id, Notice.status, func.count())
                    .where(Notice.kind == KIND, broadcast_id.in_([str(r.id) for r in rows]))
                    .group_by(broadcast_id, Notice.status)
                )
            ).all():
                counts[uuid.UUID(ident)][status] = number
        names = await self._names(rows)
        zone = ZoneInfo(self.timezone)
        return [
            BroadcastOut(
                id=row.id,
                topic=names.get(("topic", row.topic_slug), row.topic_slug),
                areas=[names.get(("area", a), a) for a in row.areas],
                text=row.text,
                link=row.link,
                image_url=row.image_url,
                status=row.status,
                send_at=row.send_at,
                send_at_local=f"{row.send_at.astimezone(zone):%d/%m/%Y %H:%M}",
                created_at=row.created_at,
                started_at=row.started_at,
                finished_at=row.finished_at,
                cancelled_at=row.cancelled_at,
                counts=_counts(counts[row.id]),
            )
            for row in rows
        ]

    async def _names(self, rows: list[Broadcast]) -> dict[tuple[str, str], str]:
        topics = {r.topic_slug for r in rows}
        areas = {a for r in rows for a in r.areas}
        names: dict[tuple[str, str], str] = {}
        if topics:
            for slug, name in await self.session.execute(
                select(Topic.slug, Topic.name).where(Topic.slug.in_(topics))
            ):
                names["topic", slug] = name
        if areas:
            for slug, name in await self.session.execute(
                select(Area.slug, Area.name).where(Area.slug.in_(areas))
            ):
                names["area", slug] = name
        return names


def _counts(by_status: dict[str, int]) -> Counts:
    delivered = by_status.get("delivered", 0)
    return Counts(
        written=sum(by_status.values()),
        waiting=sum(by_status.get(s, 0) for s in WAITING),
        sent=by_status.get("sent", 0) + delivered,
        delivered=delivered,
        failed=by_status.get("failed", 0),
        cancelled=by_status.get("cancelled", 0),
    )


def start_after_commit(session: AsyncSession, row: Broadcast) -> None:
    """Queue the fan-out for its time once the broadcast is committed. If Redis is down,
    the bulk worker's cron finds the broadcast due all the same."""
    queue = session.info.get("queue")
    if queue is None:
        return
    tenant, ident, at = str(current_tenant(session)), str(row.id), row.send_at

    async def enqueue() -> None:
        from motcua.broadcasts.jobs import enqueue_fan_out

        await enqueue_fan_out(queue, tenant, ident, at=at)

    session.info.setdefault("after_commit", []).append(enqueue)


@dataclass
class Batch:
    more: bool = False  # more recipients remain
    notices: list[str] = field(default_factory=list)  # ids written, to queue after commit


async def fan_out_batch(
    session: AsyncSession, broadcast_id: uuid.UUID, sender: Sender, batch: int = BATCH
) -> Batch:
    """Write the next batch of the broadcast's notices. The caller commits, then queues
    them: a batch at a time through Redis, not one round trip each."""
    tenant_id = current_tenant(session)
    row = await session.get(Broadcast, (tenant_id, broadcast_id), with_for_update=True)
    now = datetime.now(UTC)
    if row is None or row.status in ("sent", "cancelled"):
        return Batch()
    if row.status == "scheduled":
        if row.send_at > now + timedelta(seconds=1):
            return Batch()  # not yet: the deferred job or the cron comes back for it
        row.status, row.started_at = "sending", now
    topic = await session.get(Topic, (tenant_id, row.topic_slug))
    # One notice per address, however many of its subscriptions match; in address order,
    # so the cursor says where the next batch starts.
    recipients = (
        await session.execute(
            select(Subscription.address_key, Subscription.recipient, Subscription.id)
            .where(
                audience_filter(row.topic_slug, row.areas), Subscription.address_key > row.cursor
            )
            .order_by(Subscription.address_key, Subscription.created_at)
            .ext(distinct_on(Subscription.address_key))
            .limit(batch)
        )
    ).all()
    # The channel plan depends on which kinds of address a citizen has, not on whom: worked
    # out once per kind. The province's own channels (webhook) get no copy of a broadcast.
    plans: dict[tuple[str, ...], list[str]] = {}
    notices: list[dict[str, object]] = []
    for _, recipient, subscription_id in recipients:
        shape = tuple(sorted(recipient))
        if shape not in plans:
            plans[shape] = (await channel_plan(session, Address(**recipient)))[0]
        if not (plan := plans[shape]):
            continue  # no channel of the province reaches this kind of address
        token = unsubscribe_token(sender.keys, tenant_id, subscription_id)
        values: dict[str, str] = {
            "broadcast_id": str(row.id),
            "province": sender.province,
            "topic": topic.name if topic else row.topic_slug,
            "text": row.text,
            "link": row.link or "",
            "image_url": row.image_url or "",
            "unsubscribe_url": f"{sender.unsubscribe_base}/{token}",
        }
        notices.append(
            {
                "tenant_id": tenant_id,
                **new_notice(
                    kind=KIND,
                    lane="bulk",
                    plan=plan,
                    recipient=recipient,
                    values=values,
                    test=row.test,
                ),
            }
        )
    if notices:
        # Rows, not ORM objects: a broadcast writes a hundred thousand of them.
        await session.execute(insert(Notice), notices)
    done = Batch(more=len(recipients) == batch, notices=[str(n["id"]) for n in notices])
    row.recipients += len(recipients)
    row.progressed_at = now
    if recipients:
        row.cursor = recipients[-1][0]
    if not done.more:
        row.status, row.finished_at = "sent", now
    return done


async def due_broadcasts(session: AsyncSession, stalled_after: timedelta) -> list[uuid.UUID]:
    """Scheduled ones whose time has come, and fan-outs that stopped (a worker died)."""
    now = datetime.now(UTC)
    return list(
        (
            await session.scalars(
                select(Broadcast.id).where(
                    or_(
                        and_(Broadcast.status == "scheduled", Broadcast.send_at <= now),
                        and_(
                            Broadcast.status == "sending",
                            func.coalesce(Broadcast.progressed_at, Broadcast.started_at)
                            < now - stalled_after,
                        ),
                    )
                )
            )
        ).all()
    )
