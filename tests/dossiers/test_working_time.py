"""Promised dates on the province's working calendar (national calendar 2026)."""

import datetime as dt

import pytest

from motcua.calendar.schemas import CalendarIn
from motcua.calendar.service import merged
from motcua.dossiers.working_time import WorkCalendar

TZ = "Asia/Ho_Chi_Minh"


@pytest.fixture(scope="module")
def calendar():
    days = {day: kind for day, (kind, _) in merged(CalendarIn()).items()}
    return WorkCalendar(days, TZ)


def at(text):
    return dt.datetime.fromisoformat(text + "+07:00")


def test_the_day_of_intake_counts_when_received_before_the_cutoff(calendar):
    assert calendar.due_at(at("2024-09-04T08:30"), 24) == at("2024-09-06T17:00")
    assert calendar.due_at(at("2024-09-04T15:30"), 24) == at("2024-09-09T17:00")


def test_tet_holidays_do_not_count(calendar):
    # Friday 13/02/2026, then Tết: 14/02–22/02 off.
    assert calendar.due_at(at("2026-02-13T09:00"), 24) == at("2026-02-24T17:00")


def test_a_make_up_saturday_counts(calendar):
    # Saturday 10/01/2026 is worked in exchange for Friday 02/01.
    assert calendar.is_working_day(dt.date(2026, 1, 10))
    assert calendar.due_at(at("2026-01-08T16:00"), 16) == at("2026-01-10T17:00")


def test_the_new_year_is_crossed(calendar):
    # 01/01 and 02/01/2026 off, then the weekend.
    assert calendar.due_at(at("2025-12-31T10:00"), 24) == at("2026-01-06T17:00")


def test_a_long_holiday_pushes_the_next_day(calendar):
    # 29/08–02/09/2026: weekend, 31/08 swapped, Quốc khánh 01–02/09.
    assert calendar.due_at(at("2026-08-28T16:00"), 8) == at("2026-09-03T17:00")


def test_same_day_procedures(calendar):
    assert calendar.due_at(at("2026-11-27T09:00"), 0) == at("2026-11-27T17:00")
    assert calendar.due_at(at("2026-11-27T16:00"), 0) == at("2026-11-30T17:00")


def test_working_hours_run_hour_by_hour(calendar):
    assert calendar.due_at(at("2026-11-26T10:30"), 4) == at("2026-11-26T16:00")
    assert calendar.due_at(at("2026-11-26T16:30"), 4) == at("2026-11-27T11:00")
    assert calendar.due_at(at("2026-11-27T16:30"), 4) == at("2026-11-30T11:00")


def test_paused_time_counts_only_working_minutes(calendar):
    assert calendar.working_minutes_between(at("2026-11-27T15:00"), at("2026-11-30T09:00")) == 210
    assert calendar.working_minutes_between(at("2026-02-13T15:00"), at("2026-02-23T07:00")) == 120


def test_a_promise_moves_by_the_paused_time(calendar):
    due = at("2026-11-27T17:00")
    assert calendar.extend(due, 2 * 8 * 60, whole_days=True) == at("2026-12-01T17:00")
    assert calendar.extend(due, 90, whole_days=False) == at("2026-11-30T09:00")
    assert calendar.extend(due, 0, whole_days=True) == due


def test_timeliness(calendar):
    due = at("2026-11-27T17:00")
    assert calendar.timeliness(at("2026-11-26T10:00"), due) == "early"
    assert calendar.timeliness(at("2026-11-27T16:59"), due) == "on_time"
    assert calendar.timeliness(at("2026-11-27T17:01"), due) == "late"
