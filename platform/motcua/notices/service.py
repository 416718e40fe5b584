"""Notices for staff: a dossier's notices, resending, figures, and the templates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.db import current_tenant
from motcua.errors import Conflict, Invalid, NotFound
from motcua.notices.channel import Address, discover
from motcua.notices.channels import channel_out
from motcua.notices.models import ChannelSetting, Notice, NoticeAttempt, NoticeTemplate
from motcua.notices.outbox import channel_plan, enqueue_after_commit
from motcua.notices.schemas import (
    AttemptOut,
    ChannelFigures,
    ChannelOut,
    Figures,
    NoticeOut,
    SmsPreview,
    TemplateIn,
    TemplateOut,
)
from motcua.notices.templates import (
    DEFAULTS,
    KINDS,
    Template,
    sms_segments,
    template_problems,
)

ANY_CHANNEL = "*"


async def effective_template(
    session: AsyncSession, kind: str, channel: str, locale: str
) -> Template:
    """The province's newest wording for this channel, else for every channel, else ours."""
    row = await session.scalar(
        select(NoticeTemplate)
        .where(
            NoticeTemplate.kind == kind,
            NoticeTemplate.locale == locale,
            NoticeTemplate.channel.in_((channel, ANY_CHANNEL)),
        )
        .order_by(
            case((NoticeTemplate.channel == channel, 0), else_=1), NoticeTemplate.version.desc()
        )
        .limit(1)
    )
    if row is not None:
        return Template(subject=row.subject, body=row.body, version=row.version)
    subject, body = DEFAULTS.get(locale, DEFAULTS["vi"])[kind]
    return Template(subject=subject, body=body, version=0)


class NoticeService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_dossier(self, code: str) -> list[NoticeOut]:
        notices = (
            await self.session.scalars(
                select(Notice).where(Notice.dossier_code == code).order_by(Notice.created_at)
            )
        ).all()
        attempts: dict[uuid.UUID, list[AttemptOut]] = {n.id: [] for n in notices}
        if notices:
            for a in await self.session.scalars(
                select(NoticeAttempt)
                .where(NoticeAttempt.notice_id.in_(attempts))
                .order_by(NoticeAttempt.notice_id, NoticeAttempt.number)
            ):
                attempts[a.notice_id].append(
                    AttemptOut(
                        number=a.number,
                        channel=a.channel,
                        at=a.at,
                        outcome=a.outcome,
                        provider=a.provider,
                        provider_id=a.provider_id,
                        provider_code=a.provider_code,
                        detail=a.detail,
                        milliseconds=a.milliseconds,
                    )
                )
        return [_out(n, attempts[n.id]) for n in notices]

    async def resend(self, notice_id: uuid.UUID) -> NoticeOut:
        """A failed notice goes through the province's plan again, from the start."""
        notice = await self.session.get(
            Notice, (current_tenant(self.session), notice_id), with_for_update=True
        )
        if notice is None:
            raise NotFound(f"No notice '{notice_id}'.")
        if notice.status != "failed":
            raise Conflict(f"Only failed notices are resent; this one is {notice.status}.")
        plan, _ = await channel_plan(self.session, Address(**notice.recipient))
        if not plan:
            raise Conflict("No enabled channel reaches this citizen.")
        notice.plan, notice.channel = plan, plan[0]
        notice.status, notice.channel_attempts = "created", 0
        notice.next_attempt_at = datetime.now(UTC)
        await self.session.flush()
        enqueue_after_commit(self.session, [notice])
        return _out(notice, [])

    async def figures(self, days: int = 30) -> Figures:
        since = datetime.now(UTC) - timedelta(days=days)
        quick = (Notice.sent_at - Notice.created_at) <= timedelta(seconds=10)
        rows = await self.session.execute(
            select(
                Notice.channel,
                func.count().filter(Notice.status.in_(("sent", "delivered"))),
                func.count().filter(Notice.status == "delivered"),
                func.count().filter(Notice.status == "failed"),
                func.count().filter(Notice.sent_at.is_not(None), quick),
                func.count().filter(Notice.sent_at.is_not(None)),
            )
            .where(Notice.created_at >= since, Notice.channel.is_not(None))
            .group_by(Notice.channel)
            .order_by(Notice.channel)
        )
        return Figures(
            since=since,
            channels=[
                ChannelFigures(
                    channel=channel or "",
                    sent=sent,
                    delivered=delivered,
                    failed=failed,
                    sent_within_10s=round(fast / total, 4) if total else 0.0,
                )
                for channel, sent, delivered, failed, fast, total in rows
            ],
        )

    # -- templates -----------------------------------------------------------------------

    async def templates(self, locale: str = "vi") -> list[TemplateOut]:
        channels = [ANY_CHANNEL, *sorted(discover())]
        out = []
        for kind in KINDS:
            for channel in channels:
                template = await effective_template(self.session, kind, channel, locale)
                if channel != ANY_CHANNEL and template.version == 0:
                    continue  # the same as every channel's
                out.append(_template_out(kind, channel, locale, template))
        return out

    async def save_template(
        self, kind: str, channel: str, locale: str, data: TemplateIn
    ) -> TemplateOut:
        problems = template_problems(data.subject, data.body)
        if kind not in KINDS:
            problems.append({"field": "kind", "message": f"must be one of {', '.join(KINDS)}"})
        if channel != ANY_CHANNEL and channel not in discover():
            problems.append({"field": "channel", "message": f"no channel '{channel}'"})
        if locale not in DEFAULTS:
            problems.append({"field": "locale", "message": "must be vi or en"})
        if problems:
            raise Invalid("The template is not valid.", errors=problems)
        latest = await self.session.scalar(
            select(func.max(NoticeTemplate.version)).where(
                NoticeTemplate.kind == kind,
                NoticeTemplate.channel == channel,
                NoticeTemplate.locale == locale,
            )
        )
        row = NoticeTemplate(
            kind=kind,
            channel=channel,
            locale=locale,
            version=(latest or 0) + 1,
            subject=data.subject,
            body=data.body,
        )
        self.session.add(row)
        await self.session.flush()
        return _template_out(
            kind, channel, locale, Template(subject=row.subject, body=row.body, version=row.version)
        )

    # -- channels ------------------------------------------------------------------------

    async def channels(self) -> list[ChannelOut]:
        rows = (
            await self.session.scalars(
                select(ChannelSetting).order_by(ChannelSetting.position, ChannelSetting.channel)
            )
        ).all()
        return [channel_out(row) for row in rows]


def sms_preview(body: str) -> SmsPreview:
    encoding, units, parts = sms_segments(body)
    return SmsPreview(encoding=encoding, characters=units, segments=parts)


def _template_out(kind: str, channel: str, locale: str, template: Template) -> TemplateOut:
    return TemplateOut(
        kind=kind,
        channel=channel,
        locale=locale,
        version=template.version,
        subject=template.subject,
        body=template.body,
        sms=sms_preview(template.body) if channel in ("sms", ANY_CHANNEL) else None,
    )


def _out(notice: Notice, attempts: list[AttemptOut]) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        kind=notice.kind,
        status=notice.status,
        channel=notice.channel,
        plan=list(notice.plan),
        test=notice.test,
        created_at=notice.created_at,
        sent_at=notice.sent_at,
        delivered_at=notice.delivered_at,
        template_version=notice.template_version,
        last_error=notice.last_error,
        attempts=attempts,
    )
