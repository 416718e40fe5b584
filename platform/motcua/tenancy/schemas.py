"""Wire types of the platform's tenant routes."""

from __future__ import annotations

from datetime import datetime

import msgspec


class TenantOut(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    province_code: str
    status: str
    domains: list[str]
    timezone: str
    created_at: datetime
    exported_at: datetime | None = None
    counts: dict[str, int] = msgspec.field(default_factory=dict)


class TenantList(msgspec.Struct, kw_only=True):
    items: list[TenantOut]
    total: int


class Onboarded(msgspec.Struct, kw_only=True):
    slug: str
    created: bool
    changed: bool
    changes: list[str]
    summary: str


class PackError(msgspec.Struct, kw_only=True):
    file: str
    line: int
    field: str
    message: str


class Removed(msgspec.Struct, kw_only=True):
    slug: str
    deleted: dict[str, int]
