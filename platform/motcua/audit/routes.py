"""Reading the audit log: a province's admins read and export theirs, operators the
platform's. Exports stream, a page of rows per short transaction."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.schemas import AuditEntry, AuditPage
from motcua.audit.service import AuditFilter, entries, page
from motcua.audit.trail import audited
from motcua.auth.guards import operator_only, requires
from motcua.auth.models import Role
from motcua.db import Database
from motcua.tenancy.directory import TenantRef

Action = Annotated[
    str | None, QueryParameter(max_length=64, description="exact, or a family: 'dossier.'")
]
Subject = Annotated[str | None, QueryParameter(max_length=120)]
Since = Annotated[datetime | None, QueryParameter(description="from this moment (inclusive)")]
Until = Annotated[datetime | None, QueryParameter(description="until this moment (exclusive)")]
Before = Annotated[int | None, QueryParameter(ge=1, description="next_before of the previous page")]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Province = Annotated[str | None, QueryParameter(name="tenant", max_length=63)]
Format = Annotated[Literal["csv", "jsonl"], QueryParameter(name="format")]
COLUMNS = [
    "id",
    "at",
    "subject",
    "display",
    "agency_code",
    "tenant",
    "action",
    "target",
    "client",
    "detail",
]
MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


async def _lines(rows: AsyncIterator[AuditEntry], fmt: str) -> AsyncIterator[bytes]:
    if fmt == "jsonl":
        async for row in rows:
            yield msgspec.json.encode(row) + b"\n"
        return
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    async for row in rows:
        item = msgspec.to_builtins(row)
        item["detail"] = msgspec.json.encode(row.detail).decode() if row.detail else ""
        # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text.
        writer.writerow([inert(item.get(column)) for column in COLUMNS])
        if out.tell() > 64 * 1024:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


def inert(value: object) -> object:
    """A CSV cell a spreadsheet shows as text, never runs as a formula (reports use it too)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _export(rows: AsyncIterator[AuditEntry], fmt: str, name: str) -> Stream:
    extension = "csv" if fmt == "csv" else "jsonl"
    return Stream(
        _lines(rows, fmt),
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{extension}"'},
    )


class TenantAudit(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [requires(Role.ADMIN)]

    @get("/", summary="The province's audit log, newest first")
    async def list_entries(
        self,
        session: NamedDependency[AsyncSession],
        action: Action = None,
        subject: Subject = None,
        since: Since = None,
        until: Until = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> AuditPage:
        return await page(session, AuditFilter(action, subject, since, until, None, before, limit))

    @get(
        "/export",
        summary="Export the province's audit log (CSV or JSON lines, streamed)",
        opt=audited("audit.export"),
    )
    async def export(
        self,
        db: NamedDependency[Database],
        tenant: NamedDependency[TenantRef],
        fmt: Format = "csv",
        action: Action = None,
        subject: Subject = None,
        since: Since = None,
        until: Until = None,
    ) -> Stream:
        rows = entries(
            lambda: db.tenant_session(tenant.id),
            AuditFilter(action, subject, since, until),
        )
        return _export(rows, fmt, f"audit-{tenant.slug}")


class PlatformAudit(Controller):
    path = "/api/v1/platform/audit"
    tags = ["platform"]
    guards = [operator_only]

    @get("/", summary="The platform's audit log (operators' actions), newest first")
    async def list_entries(
        self,
        db: NamedDependency[Database],
        action: Action = None,
        subject: Subject = None,
        province: Province = None,
        since: Since = None,
        until: Until = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> AuditPage:
        async with db.platform_session() as session:
            return await page(
                session, AuditFilter(action, subject, since, until, province, before, limit)
            )

    @get(
        "/export",
        summary="Export the platform's audit log (CSV or JSON lines, streamed)",
        opt=audited("audit.export"),
    )
    async def export(
        self,
        db: NamedDependency[Database],
        fmt: Format = "csv",
        action: Action = None,
        subject: Subject = None,
        province: Province = None,
        since: Since = None,
        until: Until = None,
    ) -> Stream:
        rows = entries(db.platform_session, AuditFilter(action, subject, since, until, province))
        return _export(rows, fmt, "audit-platform")
