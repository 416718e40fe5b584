"""Notices over HTTP: staff views, templates, channels, and the providers' webhooks."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from arq.connections import ArqRedis
from litestar import Controller, Request, delete, get, post, put, route
from litestar.di import NamedDependency, Provide
from litestar.params import Body, FromPath, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.trail import audited, unaudited
from motcua.auth.guards import public, requires
from motcua.auth.models import Role
from motcua.db import Database
from motcua.notices.channel import RawRequest
from motcua.notices.channels import ChannelSettingsService
from motcua.notices.hooks import receive_hook
from motcua.notices.schemas import (
    ChannelCheck,
    ChannelIn,
    ChannelOut,
    Figures,
    NoticeList,
    NoticeOut,
    SmsPreview,
    TemplateIn,
    TemplateList,
    TemplateOut,
)
from motcua.notices.service import NoticeService, sms_preview
from motcua.notices.templates import PLACEHOLDERS
from motcua.notices.tokens import DatabaseTokenStore
from motcua.notices.vault import Vault
from motcua.settings import Settings
from motcua.tenancy.directory import TenantRef

staff = requires(Role.OFFICER, Role.ADMIN)
admin_only = requires(Role.ADMIN)
Locale = Annotated[str, QueryParameter(max_length=8)]


def provide_notices(session: NamedDependency[AsyncSession]) -> NoticeService:
    return NoticeService(session)


def provide_channel_settings(
    session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    db: NamedDependency[Database],
    tenant: NamedDependency[TenantRef],
) -> ChannelSettingsService:
    vault = Vault.for_settings(settings)
    return ChannelSettingsService(session, vault, DatabaseTokenStore(db, tenant.id, vault))


# Top-level fields of a channel's body worth an audit row; its settings never are.
CHANNEL_DETAIL = ("position", "per_day", "quiet_hours")


class Notices(Controller):
    path = "/api/v1"
    tags = ["notices"]
    dependencies = {"channel_settings": Provide(provide_channel_settings, sync_to_thread=False)}

    @get(
        "/dossiers/{code:str}/notices",
        summary="A dossier's notices and their attempts",
        guards=[staff],
        opt=audited("dossier.read", "dossier:{code}"),  # the citizen sees it as a look
    )
    async def of_dossier(
        self, code: FromPath[str], notices: NamedDependency[NoticeService]
    ) -> NoticeList:
        return NoticeList(items=await notices.for_dossier(code))

    @post(
        "/notices/{notice_id:uuid}/resend",
        summary="Send a failed notice again",
        guards=[staff],
        opt=audited("notice.resend", "notice:{notice_id}"),
        status_code=200,
    )
    async def resend(
        self, notice_id: FromPath[uuid.UUID], notices: NamedDependency[NoticeService]
    ) -> NoticeOut:
        return await notices.resend(notice_id)

    @get(
        "/notices/figures",
        summary="Per channel: sent, delivered, failed, sent within 10 s",
        guards=[staff],
    )
    async def figures(
        self,
        notices: NamedDependency[NoticeService],
        days: Annotated[int, QueryParameter(ge=1, le=366)] = 30,
    ) -> Figures:
        return await notices.figures(days)

    @get(
        "/templates",
        summary="The wording of every notice, as the province uses it",
        guards=[admin_only],
    )
    async def templates(
        self, notices: NamedDependency[NoticeService], locale: Locale = "vi"
    ) -> TemplateList:
        return TemplateList(
            items=await notices.templates(locale), placeholders=sorted(PLACEHOLDERS)
        )

    @put(
        "/templates/{kind:str}/{channel:str}",
        summary="Save a new version of a template",
        guards=[admin_only],
        opt=audited("template.put", "template:{kind}/{channel}"),
        description="`channel` is a channel's name, or `*` for every "
        "channel without its own. Unknown placeholders are a 422.",
    )
    async def save_template(
        self,
        kind: FromPath[str],
        channel: FromPath[str],
        data: Annotated[TemplateIn, Body()],
        notices: NamedDependency[NoticeService],
        locale: Locale = "vi",
    ) -> TemplateOut:
        return await notices.save_template(kind, channel, locale, data)

    @post(
        "/templates/preview",
        summary="An SMS text's encoding and segments, before saving",
        guards=[admin_only],
        opt=unaudited("computes a preview, changes nothing"),
        status_code=200,
    )
    async def preview(self, data: Annotated[TemplateIn, Body()]) -> SmsPreview:
        return sms_preview(data.body)

    @get(
        "/channels",
        summary="Enabled channels and their plan (secrets never shown)",
        guards=[admin_only],
    )
    async def channels(self, notices: NamedDependency[NoticeService]) -> list[ChannelOut]:
        return await notices.channels()

    @put(
        "/channels/{channel:str}",
        summary="Enable a channel or change its settings, place in the plan and limits",
        guards=[admin_only],
        opt=audited("channel.update", "channel:{channel}", CHANNEL_DETAIL),
        description="`settings` is the plugin's table, as in a pack. A secret is given "
        "in clear (stored encrypted, never answered back), as an `env:VAR` reference, or "
        "left out (or `********`) to keep the stored one. Invalid settings are a 422 "
        "naming the field, and change nothing.",
    )
    async def put_channel(
        self,
        channel: FromPath[str],
        data: Annotated[ChannelIn, Body()],
        channel_settings: NamedDependency[ChannelSettingsService],
    ) -> ChannelOut:
        return await channel_settings.put(channel, data)

    @post(
        "/channels/{channel:str}/check",
        summary="Ask the provider whether it accepts the channel's settings (sends nothing)",
        guards=[admin_only],
        opt=audited("channel.check", "channel:{channel}"),
        status_code=200,
    )
    async def check_channel(
        self, channel: FromPath[str], channel_settings: NamedDependency[ChannelSettingsService]
    ) -> ChannelCheck:
        return await channel_settings.check(channel)

    @delete(
        "/channels/{channel:str}",
        summary="Disable a channel: notices planned on it go to the next channel",
        guards=[admin_only],
        opt=audited("channel.disable", "channel:{channel}"),
    )
    async def disable_channel(
        self, channel: FromPath[str], channel_settings: NamedDependency[ChannelSettingsService]
    ) -> None:
        await channel_settings.remove(channel)


class Hooks(Controller):
    tags = ["webhooks"]

    @route(
        "/hooks/{channel:str}",
        http_method=["GET", "POST"],
        opt=public,
        summary="A provider's events and delivery receipts (signature checked)",
    )
    async def hook(
        self,
        request: Request[Any, Any, Any],
        channel: FromPath[str],
        session: NamedDependency[AsyncSession],
        db: NamedDependency[Database],
        queue: NamedDependency[ArqRedis],
        tenant: NamedDependency[TenantRef],
        settings: NamedDependency[Settings],
    ) -> dict[str, int]:
        raw = RawRequest(
            method=request.method,
            headers={k.lower(): v for k, v in request.headers.items()},
            query=dict(request.query_params),
            body=await request.body(),
        )
        receipts, events = await receive_hook(
            session,
            db,
            queue,
            tenant.id,
            channel,
            raw,
            slug=tenant.slug,
            vault=Vault.for_settings(settings),
        )
        return {"receipts": receipts, "events": events}
