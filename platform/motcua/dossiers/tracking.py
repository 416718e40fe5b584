"""Public tracking, the busiest route: one round trip to PostgreSQL, no ORM.

Every scan of a receipt's QR code lands here, far more often than dossiers change. The
reader borrows a plain asyncpg connection and calls `motcua_track` (migration 0012), which
sets the tenant for row-level security and answers the dossier, its public timeline, its
rating and who opened it, in one statement. It runs as the service role like every other
query, so the forced row-level security still decides what it can see.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from motcua.audit.service import viewers
from motcua.dates import vn_date
from motcua.db import Database
from motcua.dossiers.codes import CODE
from motcua.dossiers.lifecycle import ACTION_TEXT, NATIONAL_CODES, STATUS_TEXT
from motcua.dossiers.schemas import Ref, TrackEvent, TrackOut
from motcua.dossiers.service import can_rate, rating_out
from motcua.errors import NotFound
from motcua.tenancy.directory import TenantDirectory, TenantRef

_TRACK = "SELECT * FROM motcua_track($1, $2, $3)"


class _Event(msgspec.Struct):
    action: str
    agency: str
    to_agency: str | None
    note: str
    at: datetime
    due_at: datetime | None = None  # a reschedule's new promise (migration 0013)


class _Rating(msgspec.Struct):
    attitude: int
    result: int
    comment: str
    created_at: datetime
    updated_at: datetime


class _Viewed(msgspec.Struct):
    agency: str | None
    at: datetime


_events = msgspec.json.Decoder(list[_Event])
_rating = msgspec.json.Decoder(_Rating | None)
_viewed = msgspec.json.Decoder(list[_Viewed])


class TrackingReader:
    def __init__(self, db: Database, directory: TenantDirectory) -> None:
        self.db = db
        self.directory = directory

    async def province(self, slug: str) -> TenantRef:
        tenant = await self.directory.by_slug(slug)
        if tenant is None:
            raise NotFound(f"No province is served at '{slug}'.")
        return tenant

    async def track(self, tenant: TenantRef, code: str, key: str | None) -> TrackOut:
        """Without the key: the status and promised date. A wrong key is a wrong code."""
        if not CODE.fullmatch(code):
            raise NotFound(f"No dossier '{code[:64]}'.")
        row = await self.db.read_row(_TRACK, tenant.id, code, key is not None)
        if row is None or (
            key is not None and not hmac.compare_digest(key.encode(), row["tracking_key"].encode())
        ):
            raise NotFound(f"No dossier '{code}'.")
        status: str = row["status"]
        tz = ZoneInfo(tenant.timezone)  # times as the province reads them (+07:00)
        basic = TrackOut(
            code=code,
            status=status,
            status_text=STATUS_TEXT[status],
            national_status=NATIONAL_CODES[status],
            due_at=row["due_at"].astimezone(tz),
            rescheduled=row["first_due_at"] is not None,
        )
        if key is None:
            return basic
        basic.first_due_at = row["first_due_at"] and row["first_due_at"].astimezone(tz)
        rating = _rating.decode(row["rating"] or "null")
        basic.procedure = Ref(code=row["procedure_code"], name=row["procedure_name"])
        basic.agency = Ref(code=row["agency_code"], name=row["agency_name"])
        basic.timeliness = row["timeliness"]
        basic.timeline = [
            TrackEvent(
                text=ACTION_TEXT[e.action]
                + (f" đến {e.to_agency}" if e.to_agency else "")
                + (f": ngày {vn_date(e.due_at, tenant.timezone)}" if e.due_at else ""),
                agency=e.agency,
                note=e.note,
                at=e.at.astimezone(tz),
                due_at=e.due_at and e.due_at.astimezone(tz),
            )
            for e in _events.decode(row["timeline"])
        ]
        basic.can_rate = can_rate(status, rating.created_at if rating else None)
        basic.rating = rating and rating_out(
            rating.attitude, rating.result, rating.comment, rating.updated_at.astimezone(tz)
        )
        basic.viewed_by = viewers(
            ((v.agency, v.at.astimezone(tz)) for v in _viewed.decode(row["viewed"])),
            province=tenant.name,
        )
        return basic
