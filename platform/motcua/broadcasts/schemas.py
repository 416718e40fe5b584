"""Wire types of topics, areas, subscriptions and broadcasts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TopicIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class TopicOut(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    subscribers: int  # distinct addresses


class TopicList(msgspec.Struct, kw_only=True):
    items: list[TopicOut]


class AreaIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    kind: Annotated[str, msgspec.Meta(description="commune or district")] = "district"


class AreaOut(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    kind: str
    agency_code: str | None  # None: added by an admin


class AreaList(msgspec.Struct, kw_only=True):
    items: list[AreaOut]


class SubscriptionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """From the tracking page: the dossier's applicant subscribes or unsubscribes."""

    topic: Annotated[str, msgspec.Meta(max_length=200)] = ""  # unsubscribe: "" for all
    area: Annotated[str, msgspec.Meta(max_length=200)] = ""  # "": the whole province
    action: Annotated[str, msgspec.Meta(pattern="^(subscribe|unsubscribe)$")] = "subscribe"


class SubscribedOut(msgspec.Struct, kw_only=True):
    topic: str
    topic_slug: str
    area: str | None
    area_slug: str


class SubscriptionsOut(msgspec.Struct, kw_only=True):
    message: str  # in Vietnamese, for the citizen
    changed: list[SubscribedOut]
    current: list[SubscribedOut]


class Audience(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    topic: Slug
    areas: Annotated[list[Slug], msgspec.Meta(max_length=500)] = []  # []: everywhere


class BroadcastIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    topic: Slug
    areas: Annotated[list[Slug], msgspec.Meta(max_length=500)] = []  # []: everywhere
    text: Annotated[str, msgspec.Meta(max_length=20_000)]  # the rule (2,000) is the service's
    link: Annotated[str, msgspec.Meta(max_length=2_000)] | None = None
    image_url: Annotated[str, msgspec.Meta(max_length=2_000)] | None = None
    # None: now. A time without an offset is the province's local time.
    send_at: datetime | None = None


class PreviewOut(msgspec.Struct, kw_only=True):
    topic: str
    areas: list[str]  # names
    recipients: int  # distinct addresses


class Counts(msgspec.Struct, kw_only=True):
    written: int  # notices written so far
    waiting: int  # written, not sent yet
    sent: int  # accepted by a provider (delivered included)
    delivered: int
    failed: int
    cancelled: int


class BroadcastOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    topic: str
    areas: list[str]
    text: str
    link: str | None
    image_url: str | None
    status: str  # scheduled, sending, sent, cancelled
    send_at: datetime
    send_at_local: str  # dd/mm/yyyy HH:MM in the province's zone
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_at: datetime | None
    counts: Counts


class BroadcastPage(msgspec.Struct, kw_only=True):
    items: list[BroadcastOut]
    page: int
    per_page: int
    total: int
