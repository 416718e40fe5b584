"""Catalogue tables, owned by a tenant."""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, String
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
