"""The timeline: every change of a dossier is appended here, and only here.

This is the one place where a change becomes history, so it is also where the notices
of a change are written, in the same transaction. Events are only ever added, and nothing
reads one back in the request that wrote it: each is inserted as it happens (db/rows.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from motcua.db.rows import insert_rows, values_of
from motcua.dossiers.models import Dossier, DossierEvent

Notify = Callable[[Dossier, DossierEvent], Awaitable[None]]


async def record_event(
    session: AsyncSession,
    dossier: Dossier,
    *,
    action: str,
    from_status: str | None,
    actor: str,
    at: datetime,
    note: str = "",
    to_agency: tuple[str, str] | None = None,  # (code, name) of a transfer's target
    public: bool = True,
    due_at: datetime | None = None,  # a reschedule's new promise
    notify: Notify | None = None,
    new: bool = False,  # a dossier being taken in: its row is written here, first
) -> DossierEvent:
    """Append one event at the dossier's current agency (a transfer: before it moves)."""
    dossier.event_count += 1
    if new:
        await insert_rows(session, Dossier, [values_of(dossier)])
    row = dict(
        dossier_code=dossier.code,
        seq=dossier.event_count,
        action=action,
        from_status=from_status,
        to_status=dossier.status,
        agency_code=dossier.agency_code,
        agency_name=dossier.agency_name,
        to_agency_code=to_agency[0] if to_agency else None,
        to_agency_name=to_agency[1] if to_agency else None,
        actor=actor,
        note=note,
        public=public,
        at=at,
        due_at=due_at,
    )
    await insert_rows(session, DossierEvent, [row])
    event = DossierEvent(**row)
    if notify is not None and public:
        await notify(dossier, event)  # the citizen's notices, in this same transaction
    return event
