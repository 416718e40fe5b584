"""Audit tables. The application role may only read and add rows (the migration revokes
UPDATE and DELETE), so a compromised service cannot rewrite its own history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, String, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import Base, TenantOwned


class AuditEvent(TenantOwned):
    """One action in a province: a staff member's or an integration's change or read."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_id_action_id", "tenant_id", "action", "id"),
        Index("ix_audit_events_tenant_id_subject_id", "tenant_id", "subject", "id"),
        # "Who looked at my file": the reads of one dossier, found without a scan.
        Index("ix_audit_events_tenant_id_target_id", "tenant_id", "target", "id"),
        {"info": {"append_only": True}},
    )

    # Increasing: the order the rows were written in, and the cursor of a page.
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    subject: Mapped[str] = mapped_column(String(120))  # "key:<id>", "staff:<uuid>", "system"
    display: Mapped[str] = mapped_column(String(200), default="")
    agency_code: Mapped[str | None] = mapped_column(String(32))  # the acting officer's agency
    action: Mapped[str] = mapped_column(String(64))  # "dossier.event", "catalogue.put", ...
    target: Mapped[str] = mapped_column(String(300), default="")  # "dossier:<code>", ...
    client: Mapped[str | None] = mapped_column(String(64))  # the caller's address
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class PlatformAuditEvent(Base):
    """An operator's action or a platform-wide event. No foreign key to the tenant: the trace
    of removing a province must outlive the province."""

    __tablename__ = "platform_audit_events"
    __table_args__ = (Index("ix_platform_audit_events_action_id", "action", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tenant_slug: Mapped[str | None] = mapped_column(String(63))
    subject: Mapped[str] = mapped_column(String(120))
    display: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300), default="")
    client: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
