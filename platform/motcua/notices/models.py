"""Notices and their channels: settings, the outbox, attempts, templates, tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, LargeBinary, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import TenantOwned


class ChannelSetting(TenantOwned):
    """An enabled channel plugin. Secrets are kept as ``env:VAR`` references, or encrypted by
    the vault (``vault:<token>``) when an admin gave their value; never in clear."""

    __tablename__ = "channel_settings"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int | None]  # place in the citizen's channel plan; None: not in the plan
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The province's own limits; unset: the plugin's usual rate, no daily cap.
    per_second: Mapped[float | None]
    per_day: Mapped[int | None]
    # Non-urgent (bulk) notices wait out these local hours, e.g. "21:00-07:00"; "" for none.
    quiet_hours: Mapped[str] = mapped_column(String(11), default="21:00-07:00")
    # "pack": the province's pack decides it at every `tenants apply`; "admin": set through
    # the API, and left alone by packs that do not name it.
    managed_by: Mapped[str] = mapped_column(String(8), default="pack", server_default="pack")


class Notice(TenantOwned):
    """A message a citizen is owed, written in the same transaction as its cause (the outbox)
    and delivered by the worker through the citizen's channel plan."""

    __tablename__ = "notices"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "dossier_code"],
            ["dossiers.tenant_id", "dossiers.code"],
            ondelete="CASCADE",
        ),
        Index(
            "ix_notices_tenant_id_status_next_attempt_at", "tenant_id", "status", "next_attempt_at"
        ),
        Index("ix_notices_tenant_id_dossier_code", "tenant_id", "dossier_code"),
        Index("ix_notices_tenant_id_provider_id", "tenant_id", "provider_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    dossier_code: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    lane: Mapped[str] = mapped_column(String(8), default="dossier")  # "dossier" or "bulk"
    status: Mapped[str] = mapped_column(String(12), default="created")
    # The channels still to try, in order; the first is the current one.
    plan: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    channel: Mapped[str | None] = mapped_column(String(32))
    recipient: Mapped[dict[str, Any]] = mapped_column(
        JSONB
    )  # an Address: phone, email, zalo_user_id…
    values: Mapped[dict[str, Any]] = mapped_column(JSONB)  # what the template fills in
    test: Mapped[bool] = mapped_column(default=False)  # made with a test key: simulated
    attempts: Mapped[int] = mapped_column(default=0)
    channel_attempts: Mapped[int] = mapped_column(default=0)  # on the current channel
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(200))
    template_version: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Its text and address are cleared once it has gone: a one-time code, the confirmation
    # of a citizen's erasure.
    forget: Mapped[bool] = mapped_column(default=False, server_default="false")


class NoticeAttempt(TenantOwned):
    """One try of one notice on one channel: what the provider answered."""

    __tablename__ = "notice_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "notice_id"], ["notices.tenant_id", "notices.id"], ondelete="CASCADE"
        ),
    )

    notice_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # sent, temporary, permanent, configuration
    provider: Mapped[str] = mapped_column(String(64), default="")
    provider_id: Mapped[str | None] = mapped_column(String(200))
    provider_code: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    milliseconds: Mapped[int] = mapped_column(default=0)


class NoticeTemplate(TenantOwned):
    """A province's wording of one notice kind on one channel; every save is a new version."""

    __tablename__ = "notice_templates"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)


class ChannelToken(TenantOwned):
    """Credentials a plugin obtained itself (refreshed tokens), encrypted at rest."""

    __tablename__ = "channel_tokens"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
