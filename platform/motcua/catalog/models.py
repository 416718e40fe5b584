"""Catalogue tables, owned by a tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Computed, ForeignKeyConstraint, Index, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import TenantOwned


class Agency(TenantOwned):
    """An agency (cơ quan, đơn vị): the province, a department or a commune centre."""

    __tablename__ = "agencies"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "parent_code"], ["agencies.tenant_id", "agencies.code"]),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)


# Weighted so that the name and the code rank above the field, the field above the rest.
SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, name_folded), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, field_folded), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, other_folded), 'C')"
)


class Procedure(TenantOwned):
    """An administrative procedure (thủ tục hành chính) of the province's catalogue."""

    __tablename__ = "procedures"
    __table_args__ = (Index("ix_procedures_search", "search_vector", postgresql_using="gin"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    processing_hours: Mapped[int]  # working hours; a working day is 8
    fee: Mapped[str] = mapped_column(Text, default="")
    documents: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    result: Mapped[str] = mapped_column(Text, default="")
    online_level: Mapped[str] = mapped_column(String(16), default="none")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    # Retired procedures stay for the dossiers that use them.
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    # Search columns: written and queried, never loaded with the row.
    name_folded: Mapped[str] = mapped_column(Text, deferred=True)
    field_folded: Mapped[str] = mapped_column(Text, deferred=True)
    other_folded: Mapped[str] = mapped_column(Text, deferred=True)
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR, persisted=True), deferred=True
    )


class ProcedureAgency(TenantOwned):
    """An agency that takes in a procedure; position 0 is the default receiving agency."""

    __tablename__ = "procedure_agencies"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "procedure_code"],
            ["procedures.tenant_id", "procedures.code"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["tenant_id", "agency_code"], ["agencies.tenant_id", "agencies.code"]),
        Index("ix_procedure_agencies_agency", "tenant_id", "agency_code"),
    )

    procedure_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int]
