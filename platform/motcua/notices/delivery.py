"""Delivery of one notice: claim it, check it is still wanted, render it, send it through
its channel with the database connection released, record the attempt, decide what next.

Statuses only move forward: created → sending → sent → delivered, or failed, or cancelled
(a temporary failure puts a notice back to created, with a later next_attempt_at).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.db import Database
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
from motcua.notices.limits import (
    account_scope,
    end_of_quiet_hours,
    over_daily_cap,
    wait_for_rate,
)
from motcua.notices.models import ChannelSetting, Notice, NoticeAttempt
from motcua.notices.simulator import simulate
from motcua.notices.templates import fill
from motcua.notices.tokens import DatabaseTokenStore
from motcua.notices.vault import Vault
from motcua.tenancy.models import Tenant

log = logging.getLogger(__name__)

SEND_TIMEOUT = 15.0  # a provider slower than this counts as a temporary failure
MAX_TRIES_PER_CHANNEL = 5
BACKOFF_BASE, BACKOFF_CAP = 5.0, 600.0

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


class Deliverer:
    def __init__(
        self,
        db: Database,
        http: httpx.AsyncClient,
        vault: Vault,
        receipt_base: str,
        redis: Redis,
    ) -> None:
        self.db = db
        self.http = http
        self.redis = redis
        self.vault = vault
        self.receipt_base = receipt_base  # e.g. http://host/t  (+ /{slug}/hooks/{channel})
        self._plugins: dict[str, Channel] = {}

    def plugin(self, name: str) -> Channel | None:
        if name not in self._plugins:
            found = discover().get(name)
            if found is None:
                return None
            self._plugins[name] = found()  # one instance per process: it may keep state
        return self._plugins[name]

    async def deliver(self, tenant_id: uuid.UUID, notice_id: uuid.UUID, slug: str) -> Next:
        async with self.db.tenant_session(tenant_id) as session:
            notice = await self._claim(session, notice_id)
            if notice is None:
                return Next()
            if not await self._still_wanted(session, notice):
                notice.status = "cancelled"
                await session.commit()
                return Next(notice=notice)
            channel = notice.channel or ""
            setting = await session.get(ChannelSetting, (tenant_id, channel))
            later = await self._held_back(session, notice, setting)
            if later is not None:
                notice.status, notice.next_attempt_at = "created", later
                notice.attempts -= 1  # not an attempt: nothing was sent
                notice.channel_attempts -= 1
                await session.commit()
                return Next(at=later, held=True, notice=notice)
            rendered = await self._render(session, notice, channel)
            await session.commit()  # the connection goes back to the pool before the send

        started = time.perf_counter()
        try:
            sent = await self._send(tenant_id, slug, notice, channel, setting, rendered)
            outcome, failure = "sent", None
        except DeliveryFailure as exc:
            sent, outcome, failure = None, exc.kind.value, exc
        elapsed = int((time.perf_counter() - started) * 1000)
        return await self._record(tenant_id, notice, channel, sent, outcome, failure, elapsed)

    async def _claim(self, session: AsyncSession, notice_id: uuid.UUID) -> Notice | None:
        now = datetime.now(UTC)
        claimed = await session.execute(
            update(Notice)
            .where(
                Notice.id == notice_id,
                Notice.status == "created",
                Notice.next_attempt_at <= now + timedelta(seconds=1),
            )
            .values(
                status="sending",
                claimed_at=now,
                attempts=Notice.attempts + 1,
                channel_attempts=Notice.channel_attempts + 1,
            )
            .returning(Notice.id)
        )
        if claimed.scalar() is None:
            return None  # sent, in flight elsewhere, not due, or never existed
        return await session.get(
            Notice, (session.info["tenant_id"], notice_id), populate_existing=True
        )

    async def _held_back(
        self, session: AsyncSession, notice: Notice, setting: ChannelSetting | None
    ) -> datetime | None:
        """When a send must wait: quiet hours (bulk only), the daily cap, the rate."""
        if setting is None or notice.test:
            return None
        now = datetime.now(UTC)
        tenant_id = session.info["tenant_id"]
        zone = "Asia/Ho_Chi_Minh"
        if notice.lane == "bulk" or setting.per_day is not None:  # only these need local time
            zone = (
                await session.scalar(select(Tenant.timezone).where(Tenant.id == tenant_id)) or zone
            )
        if notice.lane == "bulk":
            quiet_end = end_of_quiet_hours(setting.quiet_hours, zone, now)
            if quiet_end is not None:
                return quiet_end + timedelta(seconds=random.uniform(0, 600))  # noqa: S311
        if setting.per_day is not None:
            today = now.astimezone(ZoneInfo(zone)).date()
            if await over_daily_cap(self.redis, tenant_id, setting.channel, setting.per_day, today):
                midnight = datetime.combine(
                    today + timedelta(days=1), datetime.min.time(), ZoneInfo(zone)
                )
                return midnight + timedelta(seconds=random.uniform(0, 600))  # noqa: S311
        plugin = self.plugin(setting.channel)
        per_second = setting.per_second or (plugin.capabilities.rate_per_second if plugin else 10.0)
        scope = f"{tenant_id}:{setting.channel}"
        wait = await wait_for_rate(self.redis, scope, per_second, now)
        account = self._account(plugin, setting)
        if account and wait <= 0 and plugin is not None:
            shared = account_scope(setting.channel, account)
            ceiling = plugin.capabilities.rate_per_second
            wait = await wait_for_rate(self.redis, shared, ceiling, now)
        return now + timedelta(seconds=wait) if wait > 0 else None

    def _account(self, plugin: Channel | None, setting: ChannelSetting) -> str:
        """The provider account the province sends through; empty when the plugin names none
        or its settings do not resolve (the send then fails with the reason)."""
        if plugin is None:
            return ""
        try:
            return plugin.account(
                resolve_settings(type(plugin), setting.settings, vault=self.vault)
            )
        except DeliveryFailure:
            return ""

    async def _still_wanted(self, session: AsyncSession, notice: Notice) -> bool:
        wanted = STILL_TRUE.get(notice.kind)
        if wanted is None or notice.dossier_code is None:
            return True
        status = await session.scalar(
            select(Dossier.status).where(Dossier.code == notice.dossier_code)
        )
        return status in wanted

    async def _render(self, session: AsyncSession, notice: Notice, channel: str) -> Rendered:
        from motcua.notices.service import effective_template

        values = {k: str(v) for k, v in notice.values.items()}
        template = await effective_template(session, notice.kind, channel, "vi")
        notice.template_version = template.version
        return Rendered(
            kind=notice.kind,
            text=fill(template.body, values),
            subject=fill(template.subject, values),
            template_data=values,
            link=values.get("tracking_url") or None,
            unsubscribe_url=values.get("unsubscribe_url") or None,  # broadcasts: one click
        )

    async def _send(
        self,
        tenant_id: uuid.UUID,
        slug: str,
        notice: Notice,
        channel: str,
        setting: ChannelSetting | None,
        rendered: Rendered,
    ) -> Sent:
        to = Address(
            **{k: v for k, v in notice.recipient.items() if k in ("phone", "email", "zalo_user_id")}
        )
        if notice.test:
            return await simulate(self.db, tenant_id, notice.id, channel, to)
        plugin = self.plugin(channel)
        if plugin is None or setting is None:
            raise DeliveryFailure(
                FailureKind.CONFIGURATION,
                "not-enabled",
                f"channel '{channel}' is not installed or not enabled",
            )
        settings = resolve_settings(type(plugin), setting.settings, vault=self.vault)
        ctx = SendContext(
            http=self.http,
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

    async def _record(
        self,
        tenant_id: uuid.UUID,
        notice: Notice,
        channel: str,
        sent: Sent | None,
        outcome: str,
        failure: DeliveryFailure | None,
        elapsed: int,
    ) -> Next:
        now = datetime.now(UTC)
        async with self.db.tenant_session(tenant_id) as session:
            row = await session.get(Notice, (tenant_id, notice.id), with_for_update=True)
            assert row is not None
            session.add(
                NoticeAttempt(
                    notice_id=notice.id,
                    number=row.attempts,
                    channel=channel,
                    at=now,
                    outcome=outcome,
                    provider=sent.provider if sent else "",
                    provider_id=sent.provider_id if sent else None,
                    provider_code=failure.code if failure else "",
                    detail=(failure.detail if failure else "")[:1000],
                    milliseconds=elapsed,
                )
            )
            next_step = Next()
            if row.status != "sending":
                pass  # a receipt or the sweeper moved it meanwhile: forward only
            elif sent is not None:
                row.status, row.sent_at, row.provider_id = "sent", now, sent.provider_id
            elif (
                failure is not None
                and failure.kind is FailureKind.TEMPORARY
                and row.channel_attempts < MAX_TRIES_PER_CHANNEL
            ):
                ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (row.channel_attempts - 1))
                delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
                row.status, row.next_attempt_at = "created", now + timedelta(seconds=delay)
                row.last_error = f"{channel}: {failure.code} {failure.detail}"[:500]
                next_step = Next(at=row.next_attempt_at)
            else:
                next_step = self._fail_over(row, channel, failure, now)
            await session.commit()
        return dataclasses.replace(next_step, notice=row)

    def _fail_over(
        self, row: Notice, channel: str, failure: DeliveryFailure | None, now: datetime
    ) -> Next:
        row.last_error = f"{channel}: {failure.code if failure else ''}"[:500]
        remaining = [name for name in row.plan if name != channel]
        if not remaining:
            row.status = "failed"
            return Next()
        row.plan, row.channel = remaining, remaining[0]
        row.status, row.next_attempt_at, row.channel_attempts = "created", now, 0
        return Next(at=now)


def sweep_condition(now: datetime, stuck_after: timedelta) -> Any:
    """Notices whose worker died mid-send (the job's time-out is far shorter)."""
    return (Notice.status == "sending") & (Notice.claimed_at < now - stuck_after)
