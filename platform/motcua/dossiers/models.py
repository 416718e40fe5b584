"""Dossier tables, owned by a tenant."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import TenantOwned


class Dossier(TenantOwned):
    """A citizen's dossier (hồ sơ), from intake to the returned result."""

    __tablename__ = "dossiers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "procedure_code"], ["procedures.tenant_id", "procedures.code"]
        ),
        ForeignKeyConstraint(["tenant_id", "agency_code"], ["agencies.tenant_id", "agencies.code"]),
        ForeignKeyConstraint(
            ["tenant_id", "receiving_agency_code"], ["agencies.tenant_id", "agencies.code"]
        ),
        UniqueConstraint("tenant_id", "external_id"),
        Index("ix_dossiers_tenant_id_status_due_at", "tenant_id", "status", "due_at"),
        Index("ix_dossiers_tenant_id_agency_code", "tenant_id", "agency_code"),
        Index("ix_dossiers_tenant_id_received_at", "tenant_id", "received_at"),
        Index("ix_dossiers_tenant_id_applicant_phone", "tenant_id", "applicant_phone"),
    )

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(32))
    # Names as they were when it happened: what the receipt printed, what the citizen read.
    procedure_name: Mapped[str] = mapped_column(String(500), default="")
    receiving_agency_code: Mapped[str] = mapped_column(String(32))
    agency_code: Mapped[str] = mapped_column(String(32))  # the agency handling it now
    agency_name: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(100))
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_phone: Mapped[str | None] = mapped_column(String(16))
    applicant_email: Mapped[str | None] = mapped_column(String(254))
    applicant_id_number: Mapped[str | None] = mapped_column(String(20))
    documents: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]  # the promise as it stands now (a reschedule moves it)
    # The first promise, kept when a reschedule replaced it; None: never rescheduled.
    # Timeliness is counted against it (a rescheduled dossier is late: "quá hạn").
    first_due_at: Mapped[datetime | None]
    # The promise whose passing the citizen was apologised for (dossiers/jobs.py).
    late_notified_due_at: Mapped[datetime | None]
    processing_hours: Mapped[int]
    paused_at: Mapped[datetime | None]  # waiting for a supplement since
    completed_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    timeliness: Mapped[str | None] = mapped_column(String(8))
    # Printed on the receipt's QR code; replaced when a receipt is lost.
    tracking_key: Mapped[str] = mapped_column(String(32))
    received_by: Mapped[str] = mapped_column(String(200))
    event_count: Mapped[int] = mapped_column(default=0)
    test: Mapped[bool] = mapped_column(default=False)  # taken in with a test key


class DossierEvent(TenantOwned):
    """One step of a dossier's timeline: who, which agency, what, when."""

    __tablename__ = "dossier_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "dossier_code"],
            ["dossiers.tenant_id", "dossiers.code"],
            ondelete="CASCADE",
        ),
    )

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    agency_code: Mapped[str] = mapped_column(String(32))
    agency_name: Mapped[str] = mapped_column(String(300), default="")
    to_agency_code: Mapped[str | None] = mapped_column(String(32))
    to_agency_name: Mapped[str | None] = mapped_column(String(300))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(default=True)
    at: Mapped[datetime]
    due_at: Mapped[datetime | None]  # the new promise a reschedule set


class DossierCounter(TenantOwned):
    """The last sequence number given at one receiving unit on one day."""

    __tablename__ = "dossier_counters"

    unit_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class IdempotentRequest(TenantOwned):
    """A request made with an Idempotency-Key, and the answer it got."""

    __tablename__ = "idempotent_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, object]] = mapped_column(JSONB)


class Rating(TenantOwned):
    """The citizen's satisfaction with a returned dossier (one per dossier)."""

    __tablename__ = "ratings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "dossier_code"],
            ["dossiers.tenant_id", "dossiers.code"],
            ondelete="CASCADE",
        ),
    )

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    # 3 rất hài lòng, 2 hài lòng, 1 không hài lòng: the satisfaction rate is the share ≥ 2.
    attitude: Mapped[int] = mapped_column(SmallInteger)
    result: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
