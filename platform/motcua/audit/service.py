"""Writing and reading the audit log. A row is added to the caller's session, so it commits
or rolls back with the change it describes: no trace of what did not happen, no change
without its trace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.models import AuditEvent, PlatformAuditEvent


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
    session_tenant: uuid.UUID | None = session.info.get("tenant_id")
    common: dict[str, Any] = {
        "subject": actor.subject[:120],
        "display": actor.display[:200],
        "action": action,
        "target": target[:300],
        "client": client[:64] if client else None,
        "detail": detail or None,
    }
    if session_tenant is not None:
        session.add(AuditEvent(agency_code=actor.agency_code, **common))
    else:
        session.add(PlatformAuditEvent(tenant_id=tenant_id, tenant_slug=tenant_slug, **common))
