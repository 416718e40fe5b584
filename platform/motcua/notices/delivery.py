"""Delivery of one notice: claim it, check it is still wanted, render it, send it through
its channel with the database connection released, record the attempt, decide what next.

Statuses only move forward: created → sending → sent → delivered, or failed, or cancelled
(a temporary failure puts a notice back to created, with a later next_attempt_at).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import random
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
from redis.asyncio import Redis
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.broadcasts.models import Broadcast
from motcua.db import Database
from motcua.db.deadlocks import retry_deadlocks
from motcua.dossiers.models import Dossier
from motcua.notices.channel import (
    Address,
    Channel,
    DeliveryFailure,
    FailureKind,
    Rendered,
    SendContext,
    Sent,
    discover,
    resolve_settings,
)
from motcua.notices.connections import Busy, ProviderConnections
from motcua.notices.limits import (
    account_scope,
    end_of_quiet_hours,
    over_daily_cap,
    waits_for_rate,
)
from motcua.notices.models import ChannelSetting, Notice, NoticeAttempt
from motcua.notices.simulator import simulate
from motcua.notices.templates import Template, fill
from motcua.notices.tokens import DatabaseTokenStore
from motcua.notices.vault import Vault
from motcua.tenancy.models import Tenant

log = logging.getLogger(__name__)

SEND_TIMEOUT = 15.0  # a provider slower than this counts as a temporary failure
MAX_TRIES_PER_CHANNEL = 5
BACKOFF_BASE, BACKOFF_CAP = 5.0, 600.0

MAX_RESOLVED = 256  # channel settings kept resolved per process (one per province and channel)

GONE = frozenset({"sent", "delivered", "failed", "cancelled"})

# A notice about a state the dossier has left is not sent: it would mislead.
STILL_TRUE: dict[str, frozenset[str]] = {
    "in_progress": frozenset({"in_progress"}),
    "transferred": frozenset({"in_progress"}),
    "supplement_requested": frozenset({"supplement_requested"}),
    "result_ready_early": frozenset({"result_ready"}),
    "result_ready": frozenset({"result_ready"}),
    "result_ready_late": frozenset({"result_ready"}),
    # An apology for lateness is pointless once the result is ready or the dossier closed.
    "late": frozenset({"received", "in_progress", "supplement_requested"}),
}


@dataclass(frozen=True)
class Next:
    """What the job does after an attempt: nothing, or deliver again at a time."""

    at: datetime | None = None
    held: bool = False  # held back by a limit: the same attempt, later
    notice: Notice | None = None  # as the attempt left it (None: nothing was claimed)


@dataclass(frozen=True)
class Attempt:
    """One send's outcome, waiting to be recorded with its batch."""

    notice: Notice
    channel: str
    sent: Sent | None
    outcome: str  # sent, temporary, permanent, configuration
    failure: DeliveryFailure | None
    milliseconds: int
    template_version: int


@dataclass(frozen=True)
class Ready:
    """A claimed notice ready to send: its channel, that channel's settings, its text."""

    notice: Notice
    channel: str
    setting: ChannelSetting | None
    rendered: Rendered
    template_version: int  # recorded with the attempt: one UPDATE of the notice, not two


class _Zone:
    """The province's time zone, read once per batch and only if a limit needs it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._name: str | None = None

    async def name(self) -> str:
        if self._name is None:
            tenant_id = self.session.info["tenant_id"]
            found = await self.session.scalar(select(Tenant.timezone).where(Tenant.id == tenant_id))
            self._name = found or "Asia/Ho_Chi_Minh"
        return self._name


class Deliverer:
    def __init__(
        self,
        db: Database,
        connections: ProviderConnections,
        vault: Vault,
        receipt_base: str,
        redis: Redis,
    ) -> None:
        self.db = db
        self.connections = connections
        self.redis = redis
        self.vault = vault
        self.receipt_base = receipt_base  # e.g. http://host/t  (+ /{slug}/hooks/{channel})
        self._plugins: dict[str, Channel] = {}
        self._resolved: dict[tuple[str, bytes], Any] = {}

    def plugin(self, name: str) -> Channel | None:
        if name not in self._plugins:
            found = discover().get(name)
            if found is None:
                return None
            self._plugins[name] = found()  # one instance per process: it may keep state
        return self._plugins[name]

    async def deliver(self, tenant_id: uuid.UUID, notice_id: uuid.UUID, slug: str) -> Next:
        steps = await self.deliver_many(tenant_id, [notice_id], slug)
        return steps[0] if steps else Next()

    async def deliver_many(
        self, tenant_id: uuid.UUID, notice_ids: list[uuid.UUID], slug: str
    ) -> list[Next]:
        """Deliver a province's notices together: one transaction claims, checks and renders
        them all, the sends run side by side with no connection held, one transaction
        records them. What is not claimed (sent already, in flight, not due) is left out."""
        # A deadlock with a broadcast's cancel rolls the claim back whole: it runs again.
        steps, ready = await retry_deadlocks(lambda: self._prepare(tenant_id, notice_ids))
        if not steps and not ready:
            return []

        # One citizen's messages go one after another, in the order they were written (the
        # chat's answers in the order of the questions); different citizens' side by side.
        lines: dict[tuple[str, tuple[tuple[str, Any], ...]], list[Ready]] = {}
        for item in ready:
            recipient = tuple(sorted(item.notice.recipient.items()))
            lines.setdefault((item.channel, recipient), []).append(item)

        async def one_after_another(line: list[Ready]) -> list[Attempt]:
            return [await self._attempt(tenant_id, slug, item) for item in line]

        done = await asyncio.gather(*(one_after_another(line) for line in lines.values()))
        attempts = [attempt for line in done for attempt in line]
        return steps + (await self._record(tenant_id, attempts) if attempts else [])

    async def _prepare(
        self, tenant_id: uuid.UUID, notice_ids: list[uuid.UUID]
    ) -> tuple[list[Next], list[Ready]]:
        """Claim, check and render in one transaction: what needs no send (cancelled, held
        back), and what is ready to send. A try that is rolled back may have counted some
        sends against the rate already: the rate errs on the side of waiting."""
        ready: list[Ready] = []
        steps: list[Next] = []
        async with self.db.tenant_session(tenant_id) as session:
            notices = await self._claim(session, notice_ids)
            if not notices:
                return [], []
            unwanted = await self._no_longer_wanted(session, notices)
            settings = {s.channel: s for s in (await session.scalars(select(ChannelSetting)))}
            wanted = [n for n in notices if n.id not in unwanted]
            later = await self._held_back(session, wanted, settings)
            templates: dict[tuple[str, str], Template] = {}
            for notice in notices:
                if notice.id in unwanted:
                    notice.status = "cancelled"
                    for name, value in forgotten(notice.forget, notice.status).items():
                        setattr(notice, name, value)
                    steps.append(Next(notice=notice))
                elif notice.id in later:
                    at = later[notice.id]
                    notice.status, notice.next_attempt_at = "created", at
                    notice.attempts -= 1  # not an attempt: nothing was sent
                    notice.channel_attempts -= 1
                    steps.append(Next(at=at, held=True, notice=notice))
                else:
                    channel = notice.channel or ""
                    template = await self._template(session, notice.kind, channel, templates)
                    rendered = _render(notice, template)
                    setting = settings.get(channel)
                    ready.append(Ready(notice, channel, setting, rendered, template.version))
            await session.commit()  # the connection goes back to the pool before the sends
        return steps, ready

    async def _attempt(self, tenant_id: uuid.UUID, slug: str, item: Ready) -> Attempt:
        if item.notice.test:  # the simulator: no provider, no connection to wait for
            to = _address(item.notice)
            return await _timed(
                item, simulate(self.db, tenant_id, item.notice.id, item.channel, to)
            )
        return await _timed(item, self._send_when_free(tenant_id, slug, item))

    async def _send_when_free(self, tenant_id: uuid.UUID, slug: str, item: Ready) -> Sent:
        try:
            async with self.connections.client() as http:
                return await self._send(tenant_id, slug, item, http)
        except Busy as busy:  # nothing went out: a temporary failure, tried again later
            raise DeliveryFailure(FailureKind.TEMPORARY, "busy", str(busy)) from None

    async def _claim(self, session: AsyncSession, notice_ids: list[uuid.UUID]) -> list[Notice]:
        """The notices still to send, now `sending`, in the order asked: one statement, its
        RETURNING loading them (whatever this session held of them is replaced)."""
        now = datetime.now(UTC)
        rows = await session.scalars(
            update(Notice)
            .where(
                Notice.id.in_(notice_ids),
                # By the primary key, never by the status index: after a large backlog is
                # written, the statistics say few notices are 'created', and the planner
                # would walk all of them for each claim. Through an expression the status
                # cannot use that index.
                func.coalesce(Notice.status, "") == "created",
                Notice.next_attempt_at <= now + timedelta(seconds=1),
            )
            .values(
                status="sending",
                claimed_at=now,
                attempts=Notice.attempts + 1,
                channel_attempts=Notice.channel_attempts + 1,
            )
            .returning(Notice),
            execution_options={"populate_existing": True, "synchronize_session": False},
        )
        # Nothing claimed: sent already, in flight elsewhere, not due, or never existed.
        order = {notice_id: n for n, notice_id in enumerate(notice_ids)}
        return sorted(rows.all(), key=lambda notice: order[notice.id])

    async def _held_back(
        self, session: AsyncSession, notices: list[Notice], settings: dict[str, ChannelSetting]
    ) -> dict[uuid.UUID, datetime]:
        """The notices that must wait, and until when: quiet hours (bulk only), the daily
        cap, the rate. The batch is counted in Redis once per channel and limit, in its
        order: the oldest notices take the places that are left."""
        now = datetime.now(UTC)
        zone = _Zone(session)
        later: dict[uuid.UUID, datetime] = {}
        counted: dict[str, list[Notice]] = {}  # per channel
        for notice in notices:
            setting = settings.get(notice.channel or "")
            if setting is None or notice.test:
                continue
            quiet_end = None
            if notice.lane == "bulk":
                quiet_end = end_of_quiet_hours(setting.quiet_hours, await zone.name(), now)
            if quiet_end is not None:
                later[notice.id] = quiet_end + timedelta(seconds=random.uniform(0, 600))  # noqa: S311
            else:
                counted.setdefault(setting.channel, []).append(notice)
        for channel, waiting in counted.items():
            later |= await self._over_limits(session, settings[channel], waiting, zone, now)
        return later

    async def _over_limits(
        self,
        session: AsyncSession,
        setting: ChannelSetting,
        notices: list[Notice],
        zone: _Zone,
        now: datetime,
    ) -> dict[uuid.UUID, datetime]:
        """One channel's notices against its daily cap, the province's rate and the
        provider account's rate."""
        tenant_id, later = session.info["tenant_id"], {}
        if setting.per_day is not None:
            local_zone = ZoneInfo(await zone.name())
            today = now.astimezone(local_zone).date()
            over = await over_daily_cap(
                self.redis, tenant_id, setting.channel, setting.per_day, today, len(notices)
            )
            midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), local_zone)
            for notice in itertools.compress(notices, over):
                later[notice.id] = midnight + timedelta(seconds=random.uniform(0, 600))  # noqa: S311
            notices = [n for n in notices if n.id not in later]
        plugin = self.plugin(setting.channel)
        per_second = setting.per_second or (plugin.capabilities.rate_per_second if plugin else 10.0)
        scopes = [f"{tenant_id}:{setting.channel}"]
        if account := self._account(plugin, setting):
            # The province's rate is what it declares its contract allows; provinces on one
            # account share it (counted together, each against the rate it declared).
            scopes.append(account_scope(setting.channel, account))
        for scope in scopes:
            if not notices:
                break
            waits = await waits_for_rate(self.redis, scope, per_second, now, len(notices))
            for notice, wait in zip(notices, waits, strict=True):
                if wait > 0:
                    later[notice.id] = now + timedelta(seconds=wait)
            notices = [n for n, wait in zip(notices, waits, strict=True) if wait <= 0]
        return later

    def _account(self, plugin: Channel | None, setting: ChannelSetting) -> str:
        """The provider account the province sends through; empty when the plugin names none
        or its settings do not resolve (the send then fails with the reason)."""
        if plugin is None:
            return ""
        try:
            return plugin.account(self._settings(plugin, setting))
        except DeliveryFailure:
            return ""

    def _settings(self, plugin: Channel, setting: ChannelSetting) -> Any:
        """The plugin's settings with their secrets read: once per process for each
        distinct stored form (the environment and the vault's keys do not change while it
        runs), not once a send: the vault's decryption is a send's noticeable cost."""
        key = (setting.channel, msgspec.json.encode(setting.settings))
        if key not in self._resolved:
            if len(self._resolved) >= MAX_RESOLVED:
                self._resolved.clear()
            self._resolved[key] = resolve_settings(type(plugin), setting.settings, vault=self.vault)
        return self._resolved[key]

    async def _no_longer_wanted(
        self, session: AsyncSession, notices: list[Notice]
    ) -> set[uuid.UUID]:
        """Notices about a state their dossier has left, and copies of a broadcast cancelled
        while they waited for a retry or their turn (one query each for them all)."""
        unwanted: set[uuid.UUID] = set()
        codes = {n.dossier_code for n in notices if n.kind in STILL_TRUE and n.dossier_code}
        if codes:
            rows = await session.execute(
                select(Dossier.code, Dossier.status).where(Dossier.code.in_(codes))
            )
            statuses = {code: status for code, status in rows}
            unwanted |= {
                n.id
                for n in notices
                if n.kind in STILL_TRUE
                and n.dossier_code
                and statuses.get(n.dossier_code) not in STILL_TRUE[n.kind]
            }
        broadcasts = {b for n in notices if (b := n.values.get("broadcast_id"))}
        if broadcasts:
            cancelled = {
                str(b)
                for b in await session.scalars(
                    select(Broadcast.id).where(
                        Broadcast.id.in_([uuid.UUID(b) for b in broadcasts]),
                        Broadcast.status == "cancelled",
                    )
                )
            }
            unwanted |= {n.id for n in notices if n.values.get("broadcast_id") in cancelled}
        return unwanted

    async def _template(
        self,
        session: AsyncSession,
        kind: str,
        channel: str,
        templates: dict[tuple[str, str], Template],
    ) -> Template:
        """The template in force, read once per batch for each kind and channel."""
        from motcua.notices.service import effective_template

        if (kind, channel) not in templates:
            templates[kind, channel] = await effective_template(session, kind, channel, "vi")
        return templates[kind, channel]

    async def _send(
        self, tenant_id: uuid.UUID, slug: str, item: Ready, http: httpx.AsyncClient
    ) -> Sent:
        notice, channel, setting, rendered = item.notice, item.channel, item.setting, item.rendered
        to = _address(notice)
        plugin = self.plugin(channel)
        if plugin is None or setting is None:
            raise DeliveryFailure(
                FailureKind.CONFIGURATION,
                "not-enabled",
                f"channel '{channel}' is not installed or not enabled",
            )
        settings = self._settings(plugin, setting)
        ctx = SendContext(
            http=http,
            idempotency_key=str(notice.id),
            tokens=DatabaseTokenStore(self.db, tenant_id, self.vault),
            receipt_url=f"{self.receipt_base}/{slug}/hooks/{channel}",
        )
        try:
            return await asyncio.wait_for(plugin.send(rendered, to, settings, ctx), SEND_TIMEOUT)
        except TimeoutError:
            raise DeliveryFailure(
                FailureKind.TEMPORARY, "timeout", f"no answer in {SEND_TIMEOUT:.0f} s"
            ) from None
        except DeliveryFailure:
            raise
        except Exception as exc:  # a plugin's bug must not lose the notice
            log.exception("channel %s failed unexpectedly", channel)
            raise DeliveryFailure(
                FailureKind.TEMPORARY, "plugin-error", type(exc).__name__
            ) from None

    async def _record(self, tenant_id: uuid.UUID, attempts: list[Attempt]) -> list[Next]:
        """Every attempt of a batch, in one short transaction; then what each notice needs.
        The sends have happened: a deadlock (with a broadcast's cancel) must not lose them."""
        return await retry_deadlocks(lambda: self._record_once(tenant_id, attempts))

    async def _record_once(self, tenant_id: uuid.UUID, attempts: list[Attempt]) -> list[Next]:
        """Plain statements, not the ORM's unit of work: the notices as claimed, their
        status read again under lock (a receipt or the sweeper may have moved it). The
        notices change in memory only once committed: a try rolled back leaves them as
        claimed for the next."""
        now = datetime.now(UTC)
        async with self.db.tenant_session(tenant_id) as session:
            # Read again under lock: the status (a receipt or the sweeper may have moved it)
            # and `forget` (the citizen may have erased their data while it was sent).
            locked = {
                notice_id: (status, forget)
                for notice_id, status, forget in await session.execute(
                    select(Notice.id, Notice.status, Notice.forget)
                    .where(Notice.id.in_([a.notice.id for a in attempts]))
                    .with_for_update()
                )
            }
            settled = [
                self._settle(a.notice, *locked[a.notice.id], attempt=a, now=now) for a in attempts
            ]
            await session.execute(
                insert(NoticeAttempt), [_attempt_row(tenant_id, a, now) for a in attempts]
            )
            changes = [
                {"tenant_id": tenant_id, "id": a.notice.id, **changed}
                for a, (changed, _) in zip(attempts, settled, strict=True)
            ]
            for group in _alike(changes):
                await session.execute(update(Notice), group)
            await session.commit()
        steps = []
        for attempt, (changed, step) in zip(attempts, settled, strict=True):
            for name, value in changed.items():
                setattr(attempt.notice, name, value)
            steps.append(dataclasses.replace(step, notice=attempt.notice))
        return steps

    def _settle(
        self, row: Notice, status: str, forget: bool, *, attempt: Attempt, now: datetime
    ) -> tuple[dict[str, Any], Next]:
        """What an attempt changes in its notice (claimed, now in `status` and `forget`), and
        what next."""
        sent, failure, channel = attempt.sent, attempt.failure, attempt.channel
        # A notice a receipt or the sweeper moved meanwhile keeps its status: forward only.
        changed: dict[str, Any] = {"status": status, "template_version": attempt.template_version}
        next_step = Next()
        if status != "sending":
            pass
        elif sent is not None:
            changed |= {"status": "sent", "sent_at": now, "provider_id": sent.provider_id}
        elif (
            failure is not None
            and failure.kind is FailureKind.TEMPORARY
            and row.channel_attempts < MAX_TRIES_PER_CHANNEL
        ):
            ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (row.channel_attempts - 1))
            delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
            at = now + timedelta(seconds=delay)
            last_error = f"{channel}: {failure.code} {failure.detail}"[:500]
            changed |= {"status": "created", "next_attempt_at": at, "last_error": last_error}
            next_step = Next(at=at)
        else:
            fail_over, next_step = self._fail_over(row, channel, failure, now)
            changed |= fail_over
        return changed | forgotten(forget, changed["status"]), next_step

    def _fail_over(
        self, row: Notice, channel: str, failure: DeliveryFailure | None, now: datetime
    ) -> tuple[dict[str, Any], Next]:
        last_error = f"{channel}: {failure.code if failure else ''}"[:500]
        remaining = [name for name in row.plan if name != channel]
        if not remaining:
            return {"status": "failed", "last_error": last_error}, Next()
        return {
            "status": "created",
            "last_error": last_error,
            "plan": remaining,
            "channel": remaining[0],
            "next_attempt_at": now,
            "channel_attempts": 0,
        }, Next(at=now)


def _attempt_row(tenant_id: uuid.UUID, attempt: Attempt, now: datetime) -> dict[str, Any]:
    sent, failure = attempt.sent, attempt.failure
    return {
        "tenant_id": tenant_id,
        "notice_id": attempt.notice.id,
        "number": attempt.notice.attempts,
        "channel": attempt.channel,
        "at": now,
        "outcome": attempt.outcome,
        "provider": sent.provider if sent else "",
        "provider_id": sent.provider_id if sent else None,
        "provider_code": failure.code if failure else "",
        "detail": (failure.detail if failure else "")[:1000],
        "milliseconds": attempt.milliseconds,
    }


def _alike(changes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Changes grouped by the columns they set: one executemany a group."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for changed in changes:
        groups.setdefault(tuple(changed), []).append(changed)
    return list(groups.values())


async def _timed(item: Ready, sending: Awaitable[Sent]) -> Attempt:
    started = time.perf_counter()
    try:
        sent = await sending
        outcome, failure = "sent", None
    except DeliveryFailure as exc:
        sent, outcome, failure = None, exc.kind.value, exc
    elapsed = int((time.perf_counter() - started) * 1000)
    return Attempt(
        item.notice, item.channel, sent, outcome, failure, elapsed, item.template_version
    )


def _address(notice: Notice) -> Address:
    return Address(**{k: v for k, v in notice.recipient.items() if k in Address.__struct_fields__})


def _render(notice: Notice, template: Template) -> Rendered:
    values = {k: str(v) for k, v in notice.values.items()}
    return Rendered(
        kind=notice.kind,
        text=fill(template.body, values),
        subject=fill(template.subject, values),
        template_data=values,
        link=values.get("tracking_url") or None,
        unsubscribe_url=values.get("unsubscribe_url") or None,  # broadcasts: one click
    )


def forgotten(forget: bool, status: str) -> dict[str, Any]:
    """What a notice marked `forget` loses once it has gone: its text and its address."""
    return {"values": {}, "recipient": {}} if forget and status in GONE else {}


def sweep_condition(now: datetime, stuck_after: timedelta) -> Any:
    """Notices whose worker died mid-send (the job's time-out is far shorter)."""
    return (Notice.status == "sending") & (Notice.claimed_at < now - stuck_after)
