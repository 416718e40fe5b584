"""The tenant's calendar: the national calendar the platform ships, overridden by the pack."""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import cache
from pathlib import Path

import msgspec
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.calendar.models import CalendarDay
from motcua.calendar.schemas import CalendarIn
from motcua.catalog.cache import catalog_changed
from motcua.db import current_tenant

NATIONAL = Path(__file__).with_name("vietnam.toml")
HOLIDAY, WORKING_DAY = "holiday", "working_day"


@cache
def national_calendar() -> CalendarIn:
    return msgspec.convert(tomllib.loads(NATIONAL.read_text("utf-8")), CalendarIn)


def merged(pack: CalendarIn) -> dict[dt.date, tuple[str, str]]:
    """Day → (kind, name): the national calendar, then the pack's entries over it."""
    days: dict[dt.date, tuple[str, str]] = {}
    for calendar in (national_calendar(), pack):
        days.update((e.date, (HOLIDAY, e.name.strip())) for e in calendar.holidays)
        days.update((e.date, (WORKING_DAY, e.name.strip())) for e in calendar.working_days)
    return days


class CalendarService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def days(self) -> dict[dt.date, tuple[str, str]]:
        rows = await self.session.execute(
            select(CalendarDay.day, CalendarDay.kind, CalendarDay.name)
        )
        return {day: (kind, name) for day, kind, name in rows}

    async def sync(self, pack: CalendarIn) -> tuple[int, int]:
        """Store the merged calendar; answer (days added or changed, days removed)."""
        wanted = merged(pack)
        existing = await self.days()
        stale = [day for day, entry in existing.items() if wanted.get(day) != entry]
        fresh = [day for day, entry in wanted.items() if existing.get(day) != entry]
        if stale:
            await self.session.execute(delete(CalendarDay).where(CalendarDay.day.in_(stale)))
        if fresh:
            tenant = current_tenant(self.session)
            await self.session.execute(
                insert(CalendarDay),
                [
                    {"tenant_id": tenant, "day": d, "kind": wanted[d][0], "name": wanted[d][1]}
                    for d in fresh
                ],
            )
        if stale or fresh:
            catalog_changed(self.session)  # due dates remembered by intake must be recounted
        removed = len([day for day in stale if day not in wanted])
        return len(fresh), removed
