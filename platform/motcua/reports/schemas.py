"""Wire types of reports: counts and rates, never a citizen's data."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from motcua.dossiers.schemas import Ref


class StatusCount(msgspec.Struct, kw_only=True):
    status: str
    national_status: int  # the national portal's code (dossiers/lifecycle.py)
    text: str
    count: int


class TimelinessCounts(msgspec.Struct, kw_only=True):
    resolved: int  # result ready or returned
    early: int
    on_time: int
    late: int
    on_time_rate: float | None  # (early + on_time) / resolved; None: nothing resolved


class LevelCounts(msgspec.Struct, kw_only=True):
    """One aspect's ratings, by the levels citizens choose (stored as 3, 2, 1)."""

    rat_hai_long: int
    hai_long: int
    khong_hai_long: int
    rated: int
    satisfaction_rate: float | None  # (rất hài lòng + hài lòng) / rated; None: none rated


class RatingCounts(msgspec.Struct, kw_only=True):
    attitude: LevelCounts
    result: LevelCounts


class Figures(msgspec.Struct, kw_only=True):
    total: int  # dossiers received in the period
    statuses: list[StatusCount]  # every status, by national code
    timeliness: TimelinessCounts
    overdue: int  # received or in progress, promise passed, now
    ratings: RatingCounts


class AgencyFigures(Figures, kw_only=True):
    agency: Ref  # the agency handling the dossier now (for a finished one: the last)


class DossierReport(msgspec.Struct, kw_only=True):
    received_from: date  # the province's local days, both included
    received_to: date
    timezone: str
    agency: str | None
    procedure: str | None
    generated_at: datetime  # the moment "overdue" was counted at
    totals: Figures
    agencies: list[AgencyFigures]  # by agency code
