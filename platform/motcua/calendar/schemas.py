"""Wire types of calendars, as packs write them."""

from __future__ import annotations

import datetime as dt

import msgspec


class CalendarEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    date: dt.date
    name: str


class CalendarIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    holidays: list[CalendarEntry] = msgspec.field(default_factory=list)
    working_days: list[CalendarEntry] = msgspec.field(default_factory=list)
