"""Subscriptions and broadcasts over HTTP: admins' topics, areas and broadcasts; citizens'
subscriptions from the tracking page and the email's one-click unsubscribe link."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.trail import audited, unaudited
from motcua.auth.guards import public, requires
from motcua.auth.models import Role
from motcua.broadcasts.broadcasting import BroadcastService
from motcua.broadcasts.links import signing_keys
from motcua.broadcasts.schemas import (
    AreaIn,
    AreaList,
    AreaOut,
    Audience,
    BroadcastIn,
    BroadcastOut,
    BroadcastPage,
    PreviewOut,
    SubscribedOut,
    SubscriptionIn,
    SubscriptionsOut,
    TopicIn,
    TopicList,
    TopicOut,
)
from motcua.broadcasts.service import Subscribed, SubscriptionService
from motcua.errors import Forbidden, Problem
from motcua.settings import Settings
from motcua.tenancy.directory import TenantRef

admin_only = requires(Role.ADMIN)
readers = requires(Role.ADMIN, Role.OFFICER)
# Tracking keys and unsubscribe links are secrets a stranger may try many of.
citizen_limit = RateLimitConfig(rate_limit=("minute", 30), store="rate_limit")
Key = Annotated[str, QueryParameter(name="k", min_length=1, max_length=64)]
Page = Annotated[int, QueryParameter(ge=1, le=10_000)]
PerPage = Annotated[int, QueryParameter(ge=1, le=100)]


def provide_subscriptions(session: NamedDependency[AsyncSession]) -> SubscriptionService:
    return SubscriptionService(session)


def provide_broadcasts(
    session: NamedDependency[AsyncSession], tenant: NamedDependency[TenantRef]
) -> BroadcastService:
    return BroadcastService(session, tenant.timezone)


def _out(items: list[Subscribed]) -> list[SubscribedOut]:
    return [
        SubscribedOut(topic=s.topic, topic_slug=s.topic_slug, area=s.area, area_slug=s.area_slug)
        for s in items
    ]


def _words(items: list[Subscribed]) -> str:
    return ", ".join(s.topic + (f" ({s.area})" if s.area else "") for s in items)


class Topics(Controller):
    path = "/api/v1/topics"
    tags = ["broadcasts"]

    @get("/", summary="Topics citizens can subscribe to, with their subscribers", guards=[readers])
    async def list_topics(self, subscriptions: NamedDependency[SubscriptionService]) -> TopicList:
        counted = await subscriptions.topics_with_counts()
        return TopicList(
            items=[TopicOut(slug=t.slug, name=t.name, subscribers=n) for t, n in counted]
        )

    @post(
        "/",
        summary="Add a topic",
        guards=[admin_only],
        opt=audited("topic.add", "topic", detail=("name",)),
    )
    async def add_topic(
        self, data: JSONBody[TopicIn], subscriptions: NamedDependency[SubscriptionService]
    ) -> TopicOut:
        topic = await subscriptions.add_topic(data.name)
        return TopicOut(slug=topic.slug, name=topic.name, subscribers=0)

    @delete(
        "/{topic:str}",
        summary="Retire a topic and its subscriptions",
        guards=[admin_only],
        opt=audited("topic.retire", "topic:{topic}"),
    )
    async def retire_topic(
        self, topic: FromPath[str], subscriptions: NamedDependency[SubscriptionService]
    ) -> None:
        await subscriptions.retire_topic(topic)


class Areas(Controller):
    path = "/api/v1/areas"
    tags = ["broadcasts"]

    @get(
        "/",
        summary="Areas: the catalogue's communes and districts, and those admins added",
        guards=[readers],
    )
    async def list_areas(self, subscriptions: NamedDependency[SubscriptionService]) -> AreaList:
        return AreaList(
            items=[
                AreaOut(slug=a.slug, name=a.name, kind=a.kind, agency_code=a.agency_code)
                for a in await subscriptions.areas()
            ]
        )

    @post(
        "/",
        summary="Add an area (a former district citizens still name)",
        guards=[admin_only],
        opt=audited("area.add", "area", detail=("name", "kind")),
    )
    async def add_area(
        self, data: JSONBody[AreaIn], subscriptions: NamedDependency[SubscriptionService]
    ) -> AreaOut:
        area = await subscriptions.add_area(data.name, data.kind)
        return AreaOut(slug=area.slug, name=area.name, kind=area.kind, agency_code=None)


class Broadcasts(Controller):
    path = "/api/v1/broadcasts"
    tags = ["broadcasts"]

    @post(
        "/",
        summary="Write a broadcast: sent now, or at send_at (the province's local time)",
        guards=[admin_only],
        opt=audited("broadcast.create", "broadcast", detail=("topic", "areas", "send_at")),
    )
    async def create(
        self, data: JSONBody[BroadcastIn], broadcasts: NamedDependency[BroadcastService]
    ) -> BroadcastOut:
        return await broadcasts.create(data)

    @post(
        "/preview",
        summary="How many citizens a topic and areas reach",
        guards=[admin_only],
        opt=unaudited("a count: nothing changes"),
        status_code=200,
    )
    async def preview(
        self, data: JSONBody[Audience], broadcasts: NamedDependency[BroadcastService]
    ) -> PreviewOut:
        return await broadcasts.preview(data)

    @get("/", summary="Broadcasts, newest first, with their counts", guards=[readers])
    async def list_broadcasts(
        self,
        broadcasts: NamedDependency[BroadcastService],
        status: Annotated[
            str | None, QueryParameter(pattern="^(scheduled|sending|sent|cancelled)$")
        ] = None,
        page: Page = 1,
        per_page: PerPage = 20,
    ) -> BroadcastPage:
        return await broadcasts.page(status, page, per_page)

    @get(
        "/{broadcast_id:uuid}",
        summary="A broadcast and its sent / delivered / failed counts",
        guards=[readers],
    )
    async def show(
        self, broadcast_id: FromPath[uuid.UUID], broadcasts: NamedDependency[BroadcastService]
    ) -> BroadcastOut:
        return await broadcasts.get(broadcast_id)

    @post(
        "/{broadcast_id:uuid}/cancel",
        summary="Cancel: the fan-out stops and unsent notices are cancelled",
        guards=[admin_only],
        opt=audited("broadcast.cancel", "broadcast:{broadcast_id}"),
        status_code=200,
    )
    async def cancel(
        self, broadcast_id: FromPath[uuid.UUID], broadcasts: NamedDependency[BroadcastService]
    ) -> BroadcastOut:
        return await broadcasts.cancel(broadcast_id)


class CitizenSubscriptions(Controller):
    """The applicant of a dossier, with its tracking key, and the email's one-click link."""

    tags = ["broadcasts"]
    middleware = [citizen_limit.middleware]

    @post(
        "/api/v1/track/{code:str}/subscriptions",
        summary="Subscribe or unsubscribe the dossier's applicant (with the tracking key)",
        opt=public,
        status_code=200,
    )
    async def from_tracking(
        self,
        code: FromPath[str],
        k: Key,
        data: JSONBody[SubscriptionIn],
        subscriptions: NamedDependency[SubscriptionService],
        tenant: NamedDependency[TenantRef],
    ) -> SubscriptionsOut:
        return await _change(code, k, data, subscriptions, tenant)

    @post(
        "/track/{code:str}/subscription",
        summary="Subscribe from the tracking page (form)",
        opt=public,
        include_in_schema=False,
        status_code=200,
        media_type="text/html",
    )
    async def from_tracking_page(
        self,
        code: FromPath[str],
        k: Key,
        data: Annotated[SubscriptionIn, Body(media_type=RequestEncodingType.URL_ENCODED)],
        subscriptions: NamedDependency[SubscriptionService],
        tenant: NamedDependency[TenantRef],
    ) -> Template:
        try:
            done = await _change(code, k, data, subscriptions, tenant)
        except Problem as problem:
            if problem.status == 404:
                raise
            # The citizen typed something unknown: say so, with what there is to choose.
            topics = [t.name for t in await subscriptions.topics()]
            return Template(
                "subscription.html",
                context={
                    "province": tenant.name,
                    "message": problem.detail,
                    "current": [],
                    "topics": topics,
                    "back": f"/t/{tenant.slug}/track/{code}?k={k}",
                },
                status_code=problem.status,
            )
        return Template(
            "subscription.html",
            context={
                "province": tenant.name,
                "message": done.message,
                "current": done.current,
                "topics": [],
                "back": f"/t/{tenant.slug}/track/{code}?k={k}",
            },
        )

    @get(
        "/unsubscribe/{token:str}",
        summary="The unsubscribe link's page: one button, so mail scanners unsubscribe nobody",
        opt=public,
        media_type="text/html",
    )
    async def unsubscribe_page(
        self, token: FromPath[str], tenant: NamedDependency[TenantRef]
    ) -> Template:
        return Template(
            "unsubscribe.html",
            context={"province": tenant.name, "action": f"/t/{tenant.slug}/unsubscribe/{token}"},
        )

    @post(
        "/unsubscribe/{token:str}",
        summary="One-click unsubscribe (RFC 8058: List-Unsubscribe=One-Click)",
        opt=public,
        status_code=200,
        media_type="text/html",
    )
    async def unsubscribe(
        self,
        token: FromPath[str],
        subscriptions: NamedDependency[SubscriptionService],
        settings: NamedDependency[Settings],
        tenant: NamedDependency[TenantRef],
    ) -> Template:
        # The body (List-Unsubscribe=One-Click, urlencoded or multipart) carries nothing more.
        removed = await subscriptions.unsubscribe_by_link(signing_keys(settings), token[:100])
        message = (
            f"Đã hủy nhận tin: {_words(removed)}."
            if removed
            else "Địa chỉ này đã được hủy nhận tin trước đó."
        )
        return Template("unsubscribe.html", context={"province": tenant.name, "done": message})


async def _change(
    code: str,
    key: str,
    data: JSONBody[SubscriptionIn],
    subscriptions: SubscriptionService,
    tenant: TenantRef,
) -> SubscriptionsOut:
    if tenant.suspended:
        raise Forbidden(
            "Trang của tỉnh đang tạm ngừng, chỉ xem được. "
            "(This province is suspended; its pages are read-only.)"
        )
    to = await subscriptions.dossier_address(code, key)
    if data.action == "subscribe":
        changed = [
            await subscriptions.subscribe(
                to, data.topic, data.area.strip() or None, source="tracking"
            )
        ]
        message = f"Đã đăng ký nhận tin: {_words(changed)}."
    else:
        changed = await subscriptions.unsubscribe(to, data.topic or None)
        message = (
            f"Đã hủy nhận tin: {_words(changed)}." if changed else "Không có đăng ký nào để hủy."
        )
    current = await subscriptions.subscriptions_of(to)
    return SubscriptionsOut(message=message, changed=_out(changed), current=_out(current))
