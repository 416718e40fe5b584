"""Working time on a province's calendar: promised dates, paused clocks, timeliness.

The rule, as the one-stop centres count it:
- A working day is Monday to Friday, unless a holiday, plus any make-up Saturday. Its
  hours are 07:30–11:30 and 13:00–17:00: eight working hours.
- A procedure of N working days: the day of intake is the first of them when the dossier
  is received on a working day before 15:00 (the afternoon cut-off); otherwise counting
  starts on the next working day. The result is promised for 17:00 of the N-th day. Zero
  days is the same (or next) working day.
- A procedure counted in working hours (not a whole number of days) runs hour by hour
  from intake, or from the start of the next working period.
- Time waiting for a supplement does not count: the promise moves by the working time
  that passed between the request and the supplement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal
from zoneinfo import ZoneInfo

PERIODS: tuple[tuple[dt.time, dt.time], ...] = (
    (dt.time(7, 30), dt.time(11, 30)),
    (dt.time(13, 0), dt.time(17, 0)),
)
CUTOFF = dt.time(15, 0)
HOURS_PER_DAY = 8
MAX_SCAN_DAYS = 3 * 366  # no calendar has a year of holidays: a bound, not a rule


class WorkCalendar:
    def __init__(self, days: Mapping[dt.date, str], timezone: str) -> None:
        """days: the calendar's exceptions, date → "holiday" or "working_day"."""
        self.days = days
        self.tz = ZoneInfo(timezone)

    def is_working_day(self, day: dt.date) -> bool:
        kind = self.days.get(day)
        if kind is not None:
            return kind == "working_day"
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        for _ in range(MAX_SCAN_DAYS):
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("no working day within three years")

    def _end_of(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, PERIODS[-1][1], self.tz)

    def due_at(self, received_at: dt.datetime, hours: int) -> dt.datetime:
        local = received_at.astimezone(self.tz)
        if hours % HOURS_PER_DAY:
            return self.add_working_minutes(local, hours * 60)
        day = local.date()
        if not self.is_working_day(day) or local.time() >= CUTOFF:
            day = self.next_working_day(day)
        for _ in range(max(hours // HOURS_PER_DAY - 1, 0)):
            day = self.next_working_day(day)
        return self._end_of(day)

    def add_working_minutes(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """The moment when `minutes` of working time have passed after `start`."""
        local = start.astimezone(self.tz)
        day = local.date()
        remaining = minutes
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(day):
                for begin, end in PERIODS:
                    period_start = dt.datetime.combine(day, begin, self.tz)
                    period_end = dt.datetime.combine(day, end, self.tz)
                    cursor = max(local, period_start)
                    if cursor >= period_end:
                        continue
                    available = int((period_end - cursor).total_seconds() // 60)
                    if remaining <= available:
                        return cursor + dt.timedelta(minutes=remaining)
                    remaining -= available
            day += dt.timedelta(days=1)
        raise ValueError("working time runs beyond three years")

    def working_minutes_between(self, start: dt.datetime, end: dt.datetime) -> int:
        if end <= start:
            return 0
        start, end = start.astimezone(self.tz), end.astimezone(self.tz)
        total = 0
        day = start.date()
        while day <= end.date():
            if self.is_working_day(day):
                for begin, finish in PERIODS:
                    lo = max(start, dt.datetime.combine(day, begin, self.tz))
                    hi = min(end, dt.datetime.combine(day, finish, self.tz))
                    if hi > lo:
                        total += int((hi - lo).total_seconds() // 60)
            day += dt.timedelta(days=1)
        return total

    def extend(self, due_at: dt.datetime, minutes: int, *, whole_days: bool) -> dt.datetime:
        """Move a promise by paused working time; day-counted promises stay at 17:00."""
        if minutes <= 0:
            return due_at
        moved = self.add_working_minutes(due_at, minutes)
        return self._end_of(moved.date()) if whole_days else moved

    def timeliness(
        self, completed_at: dt.datetime, due_at: dt.datetime
    ) -> Literal["early", "on_time", "late"]:
        """Early: before the promised day; on time: on it, by the promised hour; else late."""
        if completed_at > due_at:
            return "late"
        if completed_at.astimezone(self.tz).date() < due_at.astimezone(self.tz).date():
            return "early"
        return "on_time"
