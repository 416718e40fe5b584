"""Dossiers over HTTP: staff intake and lifecycle, receipts, public tracking and ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, HeaderParameter, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.trail import audited, set_target
from motcua.auth.guards import public, requires
from motcua.auth.models import Role
from motcua.auth.scope import request_scope
from motcua.auth.service import Principal
from motcua.dossiers.lifecycle import TIMELINESS_TEXT
from motcua.dossiers.receipts import qr_png, qr_svg
from motcua.dossiers.schemas import (
    DossierIn,
    DossierOut,
    DossierPage,
    EventIn,
    RatingIn,
    RatingOut,
    TrackingKeyOut,
    TrackOut,
)
from motcua.dossiers.service import DossierService, Filters, Links
from motcua.dossiers.tracking import TrackingReader
from motcua.security.limits import per_address
from motcua.state import services
from motcua.tenancy.directory import TenantRef

staff = requires(Role.OFFICER, Role.INTEGRATION)
officers = requires(Role.OFFICER)


async def _counted(request: Request[Any, Any, Any]) -> bool:
    return request.method != "GET" or "k" not in request.query_params


# Codes are printed on paper: a stranger may try many. Without the key a lookup tells
# whether a code exists and its status, so those are limited per client address, shared
# by all processes through the "rate_limit" store, and so are ratings (writes). With a
# key, a wrong guess of either answers the same 404 and tells nothing: a receipt's own
# link (every QR scan) is not counted, and its 128-bit key cannot be guessed
# (docs/security.md, floods).
tracking_limit = per_address("tracking", 60, counts=_counted)
Key = Annotated[str | None, QueryParameter(name="k", max_length=64)]
LEVELS = [
    ("rat_hai_long", "Rất hài lòng"),
    ("hai_long", "Hài lòng"),
    ("khong_hai_long", "Không hài lòng"),
]


def provide_dossiers(
    request: Request[Any, Any, Any],
    session: NamedDependency[AsyncSession],
    tenant: NamedDependency[TenantRef],
) -> DossierService:
    settings = services(request).settings  # not a dependency: tenancy/resolve.py, why
    links = Links(
        base_url=settings.base_url,
        tenant=tenant,
        use_tenant_domain=settings.https,
    )
    return DossierService(session, tenant, links, scope=request_scope(request))


def _actor(request: Request[Any, Any, Any]) -> str:
    principal: Principal = request.state.principal
    return principal.actor


class Dossiers(Controller):
    path = "/api/v1/dossiers"
    tags = ["dossiers"]

    @post(
        "/",
        summary="Take in a dossier",
        guards=[staff],
        status_code=201,
        opt=audited("dossier.intake", detail=("procedure_code", "agency_code", "channel")),
    )
    async def intake(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[DossierIn, Body()],
        dossiers: NamedDependency[DossierService],
    ) -> Response[DossierOut]:
        principal: Principal = request.state.principal
        out, created = await dossiers.intake(data, principal.actor, test=principal.test)
        set_target(f"dossier:{out.code}")
        return Response(out, status_code=201 if created else 200)

    @get(
        "/",
        summary="List and filter dossiers",
        guards=[staff],
        # One row per page read, with its filters: a list shows no applicant, and opening
        # a dossier is its own dossier.read.
        opt=audited(
            "dossier.list",
            query=("status", "agency", "procedure", "overdue", "due_within_days", "page"),
        ),
    )
    async def list_dossiers(
        self,
        dossiers: NamedDependency[DossierService],
        status: Annotated[str | None, QueryParameter(max_length=24)] = None,
        agency: Annotated[str | None, QueryParameter(max_length=32)] = None,
        procedure: Annotated[str | None, QueryParameter(max_length=32)] = None,
        due_within_days: Annotated[int | None, QueryParameter(ge=0, le=365)] = None,
        overdue: Annotated[bool, QueryParameter()] = False,
        received_from: Annotated[datetime | None, QueryParameter()] = None,
        received_to: Annotated[datetime | None, QueryParameter()] = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> DossierPage:
        return await dossiers.list(
            Filters(
                status=status,
                agency=agency,
                procedure=procedure,
                due_within_days=due_within_days,
                overdue=overdue,
                received_from=received_from,
                received_to=received_to,
                page=page,
                per_page=per_page,
            )
        )

    @get(
        "/{code:str}",
        summary="The whole dossier with its timeline",
        guards=[staff],
        opt=audited("dossier.read", "dossier:{code}"),
    )
    async def one(
        self, code: FromPath[str], dossiers: NamedDependency[DossierService]
    ) -> DossierOut:
        return await dossiers.get(code)

    @post(
        "/{code:str}/events",
        summary="Move the dossier on",
        guards=[staff],
        status_code=200,
        description="Actions: start, transfer (+agency_code), request_supplement, "
        "supplement_received, complete, return, reject, withdraw, reschedule (+due_at), "
        "note (internal). "
        "request_supplement, reject, withdraw and reschedule need a note, which the citizen "
        "reads. reschedule (phiếu xin lỗi và hẹn lại ngày trả kết quả) is for a dossier "
        "received, in progress or waiting for a supplement: `due_at` is the new promised "
        "date, later than the current one, in the future, on a working day; the status does "
        "not change, the citizen gets the `late` notice (an apology with the new date), and "
        "timeliness stays counted against the first promise (`first_due_at`). "
        "An action that does not fit the status is a 409 naming the allowed ones. "
        "A retried request with the same Idempotency-Key answers as the first did.",
        opt=audited("dossier.event", "dossier:{code}", detail=("action", "agency_code", "due_at")),
    )
    async def add_event(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: Annotated[EventIn, Body()],
        dossiers: NamedDependency[DossierService],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", max_length=200)
        ] = None,
    ) -> DossierOut:
        return await dossiers.apply(code, data, _actor(request), idempotency_key)

    @get(
        "/{code:str}/receipt",
        summary="The printable receipt (HTML)",
        guards=[officers],
        opt=audited("dossier.read", "dossier:{code}"),
        media_type="text/html",
    )
    async def receipt(
        self,
        code: FromPath[str],
        dossiers: NamedDependency[DossierService],
        tenant: NamedDependency[TenantRef],
    ) -> Template:
        dossier = await dossiers.get(code)
        return Template(
            "receipt.html",
            context={
                "d": dossier,
                "province": tenant.name,
                "tz": tenant.timezone,
                "qr_svg": qr_svg(dossier.tracking_url),
                "short_url": dossiers.links.track_root().split("://", 1)[1],
            },
        )

    @get(
        "/{code:str}/receipt.png",
        summary="The receipt's QR code (PNG)",
        guards=[officers],
        opt=audited("dossier.read", "dossier:{code}"),
        media_type="image/png",
    )
    async def receipt_png(
        self, code: FromPath[str], dossiers: NamedDependency[DossierService]
    ) -> bytes:
        return qr_png((await dossiers.get(code)).tracking_url)

    @get(
        "/{code:str}/receipt.svg",
        summary="The receipt's QR code (SVG)",
        guards=[officers],
        opt=audited("dossier.read", "dossier:{code}"),
        media_type="image/svg+xml",
    )
    async def receipt_svg(
        self, code: FromPath[str], dossiers: NamedDependency[DossierService]
    ) -> str:
        return qr_svg((await dossiers.get(code)).tracking_url)

    @post(
        "/{code:str}/tracking-key",
        summary="Replace a lost receipt's tracking key",
        guards=[officers],
        opt=audited("dossier.tracking_key", "dossier:{code}"),
        status_code=200,
    )
    async def new_key(
        self, code: FromPath[str], dossiers: NamedDependency[DossierService]
    ) -> TrackingKeyOut:
        return await dossiers.replace_tracking_key(code)


class Tracking(Controller):
    """What the receipt's QR code opens. Without the key: the status and promised date."""

    tags = ["tracking"]
    middleware = [tracking_limit.middleware]

    @get("/api/v1/track/{code:str}", summary="Follow a dossier (JSON)", opt=public)
    async def track_json(
        self,
        slug: FromPath[str],
        code: FromPath[str],
        tracking: NamedDependency[TrackingReader],
        k: Key = None,
    ) -> TrackOut:
        return await tracking.track(await tracking.province(slug), code, k)

    @post(
        "/api/v1/track/{code:str}/rating",
        summary="Rate a returned dossier",
        opt=public,
        status_code=200,
    )
    async def rate_json(
        self,
        code: FromPath[str],
        data: Annotated[RatingIn, Body()],
        dossiers: NamedDependency[DossierService],
        k: Annotated[str, QueryParameter(name="k", max_length=64)],
    ) -> RatingOut:
        return await dossiers.rate(code, k, data)

    @get(
        "/track/{code:str}",
        summary="Follow a dossier (the page the QR code opens)",
        opt=public,
        media_type="text/html",
    )
    async def track_page(
        self,
        code: FromPath[str],
        tracking: NamedDependency[TrackingReader],
        tenant: NamedDependency[TenantRef],
        k: Key = None,
    ) -> Template:
        tracked = await tracking.track(tenant, code, k)
        return Template(
            "track.html",
            context={
                "t": tracked,
                "province": tenant.name,
                "tz": tenant.timezone,
                "keyed": k is not None,
                "timeliness": TIMELINESS_TEXT.get(tracked.timeliness or ""),
                "levels": LEVELS,
                "rating_action": f"/t/{tenant.slug}/track/{code}/rating?k={k}",
            },
        )

    @post(
        "/track/{code:str}/rating",
        summary="Rate from the tracking page (form)",
        opt=public,
        include_in_schema=False,
    )
    async def rate_form(
        self,
        code: FromPath[str],
        data: Annotated[RatingIn, Body(media_type=RequestEncodingType.URL_ENCODED)],
        dossiers: NamedDependency[DossierService],
        tenant: NamedDependency[TenantRef],
        k: Annotated[str, QueryParameter(name="k", max_length=64)],
    ) -> Redirect:
        await dossiers.rate(code, k, data)
        return Redirect(f"/t/{tenant.slug}/track/{code}?k={k}", status_code=303)
