"""Writing and reading the audit log. A row is added to the caller's session, so it commits
or rolls back with the change it describes: no trace of what did not happen, no change
without its trace."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.models import AuditEvent, PlatformAuditEvent
from motcua.audit.schemas import AuditEntry, AuditPage, Viewer
from motcua.db.session import SET_TENANT


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a stable subject ("key:<id>", "staff:<uuid>", "cli:<user>", "system"),
    the name people read, and for an officer the agency they act for."""

    subject: str
    display: str = ""
    agency_code: str | None = None


SYSTEM = Actor("system", "Hệ thống")


def actor_of(principal: Any) -> Actor:
    """The actor of an authenticated principal (an API key or a signed-in staff member)."""
    subject = getattr(principal, "subject", None) or f"key:{principal.key_id}"
    display = getattr(principal, "display", None) or principal.actor
    return Actor(str(subject), str(display), getattr(principal, "agency_code", None))


def _fields(
    actor: Actor, action: str, target: str, client: str | None, detail: dict[str, Any] | None
) -> dict[str, Any]:
    """A row's columns common to both logs, cut to their columns' lengths."""
    return {
        "subject": actor.subject[:120],
        "display": actor.display[:200],
        "action": action,
        "target": target[:300],
        "client": client[:64] if client else None,
        "detail": detail or None,
    }


def record(
    session: AsyncSession,
    *,
    action: str,
    actor: Actor,
    target: str = "",
    client: str | None = None,
    detail: dict[str, Any] | None = None,
    tenant_id: uuid.UUID | None = None,
    tenant_slug: str | None = None,
) -> None:
    """Add one audit row to the session's transaction.

    In a tenant session the row goes to the province's log (``audit_events``); in a platform
    session to the platform's (``platform_audit_events``), with the tenant it concerns if any.
    """
    common = _fields(actor, action, target, client, detail)
    if session.info.get("tenant_id") is not None:
        session.add(AuditEvent(agency_code=actor.agency_code, **common))
    else:
        session.add(PlatformAuditEvent(tenant_id=tenant_id, tenant_slug=tenant_slug, **common))


async def record_in_province(
    session: AsyncSession,
    tenant_id: uuid.UUID | None,
    *,
    action: str,
    actor: Actor,
    target: str = "",
    client: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add a row to a province's log from a platform session (sign-in sessions are platform
    rows, but what befalls a staff member's session is the province's to see), in the same
    transaction: the row passes the province's row-level policy for this transaction only.
    No province (an operator's session): the row goes where `record` puts it."""
    if tenant_id is None:
        record(session, action=action, actor=actor, target=target, client=client, detail=detail)
        return
    await session.execute(SET_TENANT, {"tenant": str(tenant_id)})
    common = _fields(actor, action, target, client, detail)
    session.add(AuditEvent(tenant_id=tenant_id, agency_code=actor.agency_code, **common))


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None  # exact ("dossier.read") or a family ("dossier.")
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    tenant_slug: str | None = None  # the platform's log only
    before: int | None = None  # page cursor: rows older than this id
    limit: int = 50


def _filtered(model: type[AuditEvent] | type[PlatformAuditEvent], f: AuditFilter) -> Select[Any]:
    query = select(model).order_by(model.id.desc()).limit(f.limit)
    if f.action:
        query = query.where(
            model.action.startswith(f.action, autoescape=True)
            if f.action.endswith(".")
            else model.action == f.action
        )
    if f.subject:
        query = query.where(model.subject == f.subject)
    if f.since:
        query = query.where(model.created_at >= f.since)
    if f.until:
        query = query.where(model.created_at < f.until)
    if f.before:
        query = query.where(model.id < f.before)
    if f.tenant_slug and model is PlatformAuditEvent:
        query = query.where(PlatformAuditEvent.tenant_slug == f.tenant_slug)
    return query


def _entry(row: AuditEvent | PlatformAuditEvent) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.created_at,
        subject=row.subject,
        display=row.display,
        agency_code=row.agency_code if isinstance(row, AuditEvent) else None,
        tenant=row.tenant_slug if isinstance(row, PlatformAuditEvent) else None,
        action=row.action,
        target=row.target,
        client=row.client,
        detail=row.detail,
    )


async def page(session: AsyncSession, f: AuditFilter) -> AuditPage:
    """One page, newest first. A tenant session reads its province's log (row-level
    security sees to it); a platform session reads the platform's."""
    model = PlatformAuditEvent if session.info.get("tenant_id") is None else AuditEvent
    rows = (await session.scalars(_filtered(model, f))).all()
    items = [_entry(row) for row in rows]
    return AuditPage(items=items, next_before=items[-1].id if len(items) == f.limit else None)


async def entries(
    open_session: Callable[[], AsyncSession], f: AuditFilter
) -> AsyncIterator[AuditEntry]:
    """Every matching row, newest first, a page per short transaction: an export of a
    year's log holds no connection for long."""
    f = replace(f, limit=1000)
    while True:
        async with open_session() as session:
            batch = await page(session, f)
        for item in batch.items:
            yield item
        if batch.next_before is None:
            return
        f = replace(f, before=batch.next_before)


# "Who looked at my file": the reads of a dossier by the province's staff, audited as
# "dossier.read" (dossiers/routes.py) and selected by the tracking statement (migration 0012).
def viewers(reads: Iterable[tuple[str | None, datetime]], *, province: str) -> list[Viewer]:
    """Which agency opened the dossier and when, from its reads newest first (the tracking
    statement, dossiers/tracking.py, selects them). A read by the province's own systems
    (no agency) shows as the province. Never the officer's name or address: the citizen
    learns which office looked, not who."""
    seen: list[Viewer] = []
    for agency, at in reads:
        viewer = Viewer(agency=agency or province, at=at.replace(second=0, microsecond=0))
        if viewer not in seen:  # the same office in the same minute: one line
            seen.append(viewer)
    return seen
