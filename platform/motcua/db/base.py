"""Declarative bases. A tenant-owned model inherits TenantOwned and gets, once and for all,
``tenant_id`` leading its primary key; the migration helper adds its forced RLS policy."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, ForeignKey, MetaData, Table, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class TenantOwned(Base):
    """A row that belongs to one province. Its table is distributed by tenant_id under Citus
    and guarded by a row-level security policy on ``motcua.tenant_id``."""

    __abstract__ = True
    _tables: ClassVar[list[str]] = []

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        # First in every key: what Citus distributes by, and what each index leads with.
        return mapped_column(
            ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, sort_order=-100
        )

    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), sort_order=100)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__tablename__" in cls.__dict__:
            TenantOwned._tables.append(cls.__dict__["__tablename__"])


def tenant_tables() -> list[Table]:
    """Every tenant-owned table the models declare, for checks and tenant-wide operations."""
    import motcua.models  # noqa: F401 - every domain's tables, whoever asks first

    return [Base.metadata.tables[name] for name in TenantOwned._tables]
