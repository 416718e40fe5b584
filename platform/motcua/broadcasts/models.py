"""Topics, areas, subscriptions and broadcasts, owned by a tenant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import TenantOwned


class Topic(TenantOwned):
    """What a citizen can subscribe to: "tin tức", "chính sách mới", or the province's own."""

    __tablename__ = "topics"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_folded: Mapped[str] = mapped_column(String(100))  # how a typed name is matched
    # A removed topic keeps its row: broadcasts and the defaults' seeding still name it.
    active: Mapped[bool] = mapped_column(default=True)


class Area(TenantOwned):
    """A commune, or a former district citizens still name. Derived from the catalogue's
    commune and district agencies, plus the ones an admin adds."""

    __tablename__ = "areas"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # "Xã An Bình"
    kind: Mapped[str] = mapped_column(String(16))  # "commune" or "district"
    name_folded: Mapped[str] = mapped_column(String(200))  # "xa an binh"
    short_folded: Mapped[str] = mapped_column(String(200))  # "an binh": what people type
    agency_code: Mapped[str | None] = mapped_column(String(32))  # None: added by an admin
    active: Mapped[bool] = mapped_column(default=True)


class Subscription(TenantOwned):
    """A citizen, by one address, wants a topic, everywhere ("" area) or in one area."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "topic_slug"], ["topics.tenant_id", "topics.slug"]),
        UniqueConstraint("tenant_id", "address_key", "topic_slug", "area_slug"),
        Index(
            "ix_subscriptions_tenant_id_topic_slug_address_key",
            "tenant_id",
            "topic_slug",
            "address_key",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # "zalo:…", "phone:+84…" or "email:…": one citizen's one address, for de-duplication.
    address_key: Mapped[str] = mapped_column(String(300))
    recipient: Mapped[dict[str, Any]] = mapped_column(JSONB)  # phone, email, zalo_user_id
    topic_slug: Mapped[str] = mapped_column(String(64))
    area_slug: Mapped[str] = mapped_column(String(64), default="")  # "": the whole province
    source: Mapped[str] = mapped_column(String(16), default="chat")  # chat, tracking, api


class Broadcast(TenantOwned):
    """A news or policy message to a topic's subscribers in some areas, now or at a time.

    scheduled → sending → sent, or cancelled from either. Fan-out walks the subscribers in
    address order; ``cursor`` is the last address written, so a lost job resumes there."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "topic_slug"], ["topics.tenant_id", "topics.slug"]),
        Index("ix_broadcasts_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    topic_slug: Mapped[str] = mapped_column(String(64))
    areas: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)  # []: everywhere
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    image_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    send_at: Mapped[datetime]
    test: Mapped[bool] = mapped_column(default=False)  # made with a test key: simulated
    recipients: Mapped[int] = mapped_column(default=0)  # notices written so far
    cursor: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    progressed_at: Mapped[datetime | None]  # the last batch: a stalled fan-out is resumed
