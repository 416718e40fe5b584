"""Reports over HTTP: the province's dossier figures, as JSON or as CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.routes import inert
from motcua.audit.trail import unaudited
from motcua.auth.guards import requires
from motcua.auth.models import Role
from motcua.auth.scope import request_scope
from motcua.dossiers.lifecycle import NATIONAL_CODES
from motcua.reports.schemas import AgencyFigures, DossierReport
from motcua.reports.service import ASPECTS, LEVELS, STATUSES, ReportService, period
from motcua.tenancy.directory import TenantRef

readers = requires(Role.ADMIN, Role.OFFICER, Role.VIEWER)
# Counts, never a citizen's data: not audited, like the notices' delivery figures
# (docs/security.md audits reads of citizens' data).
NOT_AUDITED = unaudited("counts only: no citizen's data is read")
Day = Annotated[
    str | None, QueryParameter(description="YYYY-MM-DD, the province's local day (included)")
]
Code = Annotated[str | None, QueryParameter(max_length=32)]


def provide_reports(
    request: Request[Any, Any, Any],
    session: NamedDependency[AsyncSession],
    tenant: NamedDependency[TenantRef],
) -> ReportService:
    return ReportService(session, tenant, scope=request_scope(request))


class Reports(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    guards = [readers]
    dependencies = {"reports": Provide(provide_reports, sync_to_thread=False)}

    @get(
        "/dossiers",
        summary="Dossiers received in a period: by status, timeliness, overdue, ratings",
        description="Dossiers received between `received_from` and `received_to` (the "
        "province's local days, both included; by default the current month so far; at "
        "most 366 days), counted under the agency handling them now. A narrowed officer "
        "or viewer counts their agency and those below it only.",
        opt=NOT_AUDITED,
    )
    async def dossiers(
        self,
        reports: NamedDependency[ReportService],
        received_from: Day = None,
        received_to: Day = None,
        agency: Code = None,
        procedure: Code = None,
    ) -> DossierReport:
        when = period(received_from, received_to, reports.today())
        return await reports.dossiers(when, agency=agency, procedure=procedure)

    @get(
        "/dossiers.csv",
        summary="The same report's agencies, one CSV row each (UTF-8 with BOM, for Excel)",
        media_type="text/csv; charset=utf-8",
        opt=NOT_AUDITED,
    )
    async def dossiers_csv(
        self,
        reports: NamedDependency[ReportService],
        tenant: NamedDependency[TenantRef],
        received_from: Day = None,
        received_to: Day = None,
        agency: Code = None,
        procedure: Code = None,
    ) -> Response[bytes]:
        when = period(received_from, received_to, reports.today())
        report = await reports.dossiers(when, agency=agency, procedure=procedure)
        name = f"dossiers-{tenant.slug}-{when.first}-{when.last}.csv"
        return Response(
            as_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


CSV_COLUMNS = [
    "agency_code",
    "agency_name",
    "total",
    *(f"{s}_{NATIONAL_CODES[s]}" for s in STATUSES),  # received_2 … returned_10
    "resolved",
    "early",
    "on_time",
    "late",
    "on_time_rate",
    "overdue",
    *(
        f"{aspect}_{column}"  # attitude_3 (rất hài lòng) … result_satisfaction_rate
        for aspect in ASPECTS
        for column in (*(str(level) for _, level in LEVELS), "rated", "satisfaction_rate")
    ),
]


def _row(figures: AgencyFigures) -> list[object]:
    t = figures.timeliness
    ratings = []
    for aspect in ASPECTS:
        counts = getattr(figures.ratings, aspect)
        ratings += [getattr(counts, name) for name, _ in LEVELS]
        ratings += [counts.rated, counts.satisfaction_rate]
    return [
        figures.agency.code,
        figures.agency.name,
        figures.total,
        *(s.count for s in figures.statuses),
        t.resolved,
        t.early,
        t.on_time,
        t.late,
        t.on_time_rate,
        figures.overdue,
        *ratings,
    ]


def as_csv(report: DossierReport) -> bytes:
    """One row per agency; the BOM makes Excel read the Vietnamese names as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for figures in report.agencies:
        writer.writerow([inert(cell) for cell in _row(figures)])
    return ("\ufeff" + out.getvalue()).encode()
