"""Wire types of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class AuditEntry(msgspec.Struct, kw_only=True):
    id: int
    at: datetime
    subject: str  # "key:<id>", "staff:<uuid>", "operator:<uuid>", "cli:<user>"
    display: str
    agency_code: str | None = None
    tenant: str | None = None  # the platform's log: the province it concerns
    action: str
    target: str
    client: str | None
    detail: dict[str, Any] | None


class AuditPage(msgspec.Struct, kw_only=True):
    items: list[AuditEntry]
    # Pass as `before` for the next (older) page; None on the last page.
    next_before: int | None


class Viewer(msgspec.Struct, kw_only=True):
    """Who opened a citizen's dossier, as the citizen may see it: the office, never the
    officer (no province setting shows officers' names)."""

    agency: str
    at: datetime
