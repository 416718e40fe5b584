"""The dossier report: what the province received in a period, counted in PostgreSQL.

A province holds hundreds of thousands of dossiers, so every figure is a FILTER of one
GROUP BY ROLLUP query (one row per agency, plus the province's total), never a loop over
rows in Python. Dossiers are counted under the agency handling them now (``agency_code``,
the one the scope and the list's ``agency`` filter use): a transferred dossier counts
where it went, a finished one at the agency that finished it. Test dossiers (taken in
with a test key) are never counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, RowMapping, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.auth.scope import Scope
from motcua.catalog.service import CatalogService
from motcua.dossiers.lifecycle import NATIONAL_CODES, STATUS_TEXT
from motcua.dossiers.models import Dossier, Rating
from motcua.dossiers.schemas import Ref
from motcua.errors import Invalid
from motcua.reports.schemas import (
    AgencyFigures,
    DossierReport,
    Figures,
    LevelCounts,
    RatingCounts,
    StatusCount,
    TimelinessCounts,
)
from motcua.tenancy.directory import TenantRef

MAX_DAYS: Final = 366
# In the national portal's order: 2 received … 10 returned.
STATUSES: Final = sorted(NATIONAL_CODES, key=NATIONAL_CODES.__getitem__)
RESOLVED: Final = ("result_ready", "returned")
TIMELINESS: Final = ("early", "on_time", "late")
# Overdue is the agency's delay: a dossier waiting for the citizen's supplement has its
# clock stopped (its promise moves when the papers come), one with its result ready is done.
OVERDUE_STATUSES: Final = ("received", "in_progress")
LEVELS: Final = (("rat_hai_long", 3), ("hai_long", 2), ("khong_hai_long", 1))
ASPECTS: Final = ("attitude", "result")
DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
# Days a province's records can hold; beyond them the local-day bounds overflow.
YEARS: Final = range(1900, 3000)


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included


def period(received_from: str | None, received_to: str | None, today: date) -> Period:
    """The report's local days; by default the current month so far."""
    problems: list[dict[str, str]] = []

    def day(field: str, value: str | None) -> date | None:
        if value is None:
            return None
        try:
            if DAY.fullmatch(value) and (day := date.fromisoformat(value)).year in YEARS:
                return day
        except ValueError:
            pass
        problems.append(
            {"field": field, "message": "is not a date YYYY-MM-DD between 1900 and 2999"}
        )
        return None

    first, last = day("received_from", received_from), day("received_to", received_to)
    if problems:
        raise Invalid("The report's dates cannot be read.", errors=problems)
    last = last or today
    first = first or last.replace(day=1)
    if first > last:
        problems.append({"field": "received_from", "message": "is after received_to"})
    elif (last - first).days + 1 > MAX_DAYS:
        problems.append(
            {"field": "received_to", "message": f"the period is longer than {MAX_DAYS} days"}
        )
    if problems:
        raise Invalid("The report's period cannot be accepted.", errors=problems)
    return Period(first, last)


def _rate(good: int, out_of: int) -> float | None:
    return round(good / out_of, 4) if out_of else None


def _columns(now: datetime) -> list[ColumnElement[Any]]:
    """Every counter, named, in the order _figures reads them."""
    count = func.count
    resolved = Dossier.status.in_(RESOLVED)
    columns: list[ColumnElement[Any]] = [count().label("total")]
    columns += [count().filter(Dossier.status == s).label(f"status_{s}") for s in STATUSES]
    columns += [
        count().filter(and_(resolved, Dossier.timeliness == t)).label(f"timeliness_{t}")
        for t in TIMELINESS
    ]
    columns.append(
        count()
        .filter(and_(Dossier.status.in_(OVERDUE_STATUSES), Dossier.due_at < now))
        .label("overdue")
    )
    columns += [
        count().filter(getattr(Rating, aspect) == level).label(f"{aspect}_{level}")
        for aspect in ASPECTS
        for _, level in LEVELS
    ]
    return columns


def _figures(row: RowMapping | None) -> dict[str, Any]:
    def n(name: str) -> int:
        return int(row[name]) if row is not None else 0

    resolved = sum(n(f"timeliness_{t}") for t in TIMELINESS)

    def levels(aspect: str) -> LevelCounts:
        counts = {name: n(f"{aspect}_{level}") for name, level in LEVELS}
        rated = sum(counts.values())
        return LevelCounts(
            **counts,
            rated=rated,
            satisfaction_rate=_rate(counts["rat_hai_long"] + counts["hai_long"], rated),
        )

    return {
        "total": n("total"),
        "statuses": [
            StatusCount(
                status=s,
                national_status=NATIONAL_CODES[s],
                text=STATUS_TEXT[s],
                count=n(f"status_{s}"),
            )
            for s in STATUSES
        ],
        "timeliness": TimelinessCounts(
            resolved=resolved,
            early=n("timeliness_early"),
            on_time=n("timeliness_on_time"),
            late=n("timeliness_late"),
            on_time_rate=_rate(n("timeliness_early") + n("timeliness_on_time"), resolved),
        ),
        "overdue": n("overdue"),
        "ratings": RatingCounts(attitude=levels("attitude"), result=levels("result")),
    }


class ReportService:
    def __init__(self, session: AsyncSession, tenant: TenantRef, scope: Scope = None) -> None:
        self.session = session
        self.tenant = tenant
        self.scope = scope  # a narrowed officer or viewer: their agency and those below

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.tenant.timezone)).date()

    async def dossiers(
        self, when: Period, *, agency: str | None = None, procedure: str | None = None
    ) -> DossierReport:
        tz = ZoneInfo(self.tenant.timezone)
        now = datetime.now(UTC)
        conditions = [
            Dossier.received_at >= datetime.combine(when.first, time(0), tz),
            Dossier.received_at < datetime.combine(when.last + timedelta(days=1), time(0), tz),
            Dossier.test.is_(False),
        ]
        # As the dossier list does: an agency outside the caller's scope finds nothing.
        if self.scope is not None:
            conditions.append(Dossier.agency_code.in_(self.scope))
        if agency:
            conditions.append(Dossier.agency_code == agency)
        if procedure:
            conditions.append(Dossier.procedure_code == procedure)
        rows = (
            (
                await self.session.execute(
                    select(Dossier.agency_code, *_columns(now))
                    .outerjoin(
                        Rating,
                        and_(
                            Rating.tenant_id == Dossier.tenant_id,
                            Rating.dossier_code == Dossier.code,
                        ),
                    )
                    .where(*conditions)
                    .group_by(func.rollup(Dossier.agency_code))
                )
            )
            .mappings()
            .all()
        )
        # The rollup's total row is the one without an agency (agency_code is never null).
        total = next((r for r in rows if r["agency_code"] is None), None)
        by_agency = sorted((r for r in rows if r["agency_code"] is not None), key=_code)
        names = await CatalogService(self.session).agency_names(_code(r) for r in by_agency)
        return DossierReport(
            received_from=when.first,
            received_to=when.last,
            timezone=self.tenant.timezone,
            agency=agency,
            procedure=procedure,
            generated_at=now,
            totals=Figures(**_figures(total)),
            agencies=[
                AgencyFigures(
                    agency=Ref(code=_code(r), name=names.get(_code(r), "")), **_figures(r)
                )
                for r in by_agency
            ],
        )


def _code(row: RowMapping) -> str:
    return str(row["agency_code"])
