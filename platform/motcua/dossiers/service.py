"""The dossier service: intake, the lifecycle, tracking and ratings."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
from asyncpg import UniqueViolationError
from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.auth.scope import Scope
from motcua.calendar.service import CalendarService
from motcua.catalog.cache import Recent
from motcua.catalog.service import CatalogService, IntakeCatalogue
from motcua.conversations.identity import offer_rating, reach_in_chat
from motcua.dates import vn_date
from motcua.db import current_tenant
from motcua.dossiers.applicants import check_email, check_id_number, normalise_phone
from motcua.dossiers.codes import CODE, new_tracking_key, next_code
from motcua.dossiers.lifecycle import (
    ACTION_TEXT,
    NATIONAL_CODES,
    NEEDS_REASON,
    OPEN,
    STATUS_TEXT,
    actions_from,
    next_status,
)
from motcua.dossiers.models import Dossier, DossierEvent, IdempotentRequest, Rating
from motcua.dossiers.schemas import (
    Applicant,
    DossierIn,
    DossierOut,
    DossierPage,
    DossierSummary,
    EventIn,
    EventOut,
    RatingIn,
    RatingOut,
    Ref,
    TrackingKeyOut,
)
from motcua.dossiers.timeline import record_event
from motcua.dossiers.working_time import HOURS_PER_DAY, PERIODS, WorkCalendar
from motcua.errors import Conflict, Forbidden, Invalid, NotFound
from motcua.notices.channel import Address
from motcua.notices.outbox import write_notices
from motcua.tenancy.directory import TenantRef

CLOCK_SKEW = timedelta(minutes=5)
NOTICE_KIND = {
    "receive": "received",
    "start": "in_progress",
    "transfer": "transferred",
    "request_supplement": "supplement_requested",
    "return": "returned",
    "reject": "rejected",
    "withdraw": "withdrawn",
    "reschedule": "late",  # the apology with the new promised date
}
RESULT_KIND = {
    "early": "result_ready_early",
    "on_time": "result_ready",
    "late": "result_ready_late",
}
RATING_CHANGEABLE = timedelta(days=7)
LEVELS = {"rat_hai_long": 3, "hai_long": 2, "khong_hai_long": 1}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
# A new promise is a working day within this long; further is a typo, not a plan.
RESCHEDULE_HORIZON = timedelta(days=366)
# The sweep's apology when a promise passed and no new one was given yet.
NO_NEW_DATE = "chưa có, cơ quan giải quyết sẽ báo lại"
# Waiting for the citizen's papers stops the clock (supplement_requested): not the agency's
# delay. Promises passed longer ago than this are left to staff (the overdue filter): an
# apology months late, e.g. for dossiers an integration never closed, would only confuse.
APOLOGISED_STATUSES = ("received", "in_progress")
APOLOGY_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class Links:
    """Where citizens and staff reach a dossier."""

    base_url: str  # the platform's own address
    tenant: TenantRef
    use_tenant_domain: bool  # production: the province's own domain, over https

    def tracking(self, code: str, key: str | None = None) -> str:
        query = f"?k={key}" if key else ""
        return f"{self.track_root()}/{code}{query}"

    def track_root(self) -> str:
        if self.use_tenant_domain and self.tenant.domains:
            return f"https://{self.tenant.domains[0]}/track"
        return f"{self.base_url}/t/{self.tenant.slug}/track"

    def receipt(self, code: str) -> str:
        return f"{self.base_url}/t/{self.tenant.slug}/api/v1/dossiers/{code}/receipt"


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    agency: str | None = None
    procedure: str | None = None
    due_within_days: int | None = None
    overdue: bool = False
    received_from: datetime | None = None
    received_to: datetime | None = None
    page: int = 1
    per_page: int = 20


# Intake reads these on every dossier; they change rarely (catalog/cache.py). Another
# process takes in against a change within a minute, as long as the public catalogue's
# cached answers (MOTCUA_RESPONSE_CACHE_SECONDS, 60 by default) may lag.
CATALOG_FACTS_SECONDS = 60
_catalogues: Recent[uuid.UUID, IntakeCatalogue] = Recent(CATALOG_FACTS_SECONDS)
_calendars: Recent[uuid.UUID, WorkCalendar] = Recent(CATALOG_FACTS_SECONDS)


class DossierService:
    def __init__(
        self, session: AsyncSession, tenant: TenantRef, links: Links, scope: Scope = None
    ) -> None:
        self.session = session
        self.tenant = tenant
        self.links = links
        self.scope = scope  # the agencies a narrowed officer may act on (auth.scope)
        self.catalog = CatalogService(session)

    async def calendar(self) -> WorkCalendar:
        known = _calendars.get(self.tenant.id)
        if known is not None:
            return known
        days = await CalendarService(self.session).days()
        calendar = WorkCalendar({d: kind for d, (kind, _) in days.items()}, self.tenant.timezone)
        return _calendars.put(self.tenant.id, calendar)

    async def _catalogue(self) -> IntakeCatalogue:
        known = _catalogues.get(self.tenant.id)
        if known is not None:
            return known
        return _catalogues.put(self.tenant.id, await self.catalog.intake_catalogue())

    # -- intake --------------------------------------------------------------------------

    async def intake(
        self, data: DossierIn, actor: str, *, test: bool = False
    ) -> tuple[DossierOut, bool]:
        """Take a dossier in; answer it and whether it is new (an integration re-sending
        the same external_id gets the first one back)."""
        if data.external_id:
            known = await self.session.scalar(
                select(Dossier.code).where(Dossier.external_id == data.external_id)
            )
            if known:
                return await self.get(known), False
        problems: list[dict[str, str]] = []
        catalogue = await self._catalogue()
        procedure = catalogue.procedures.get(data.procedure_code)
        if procedure is None:
            raise Invalid(
                "Unknown procedure.",
                errors=[
                    {
                        "field": "procedure_code",
                        "message": f"'{data.procedure_code}' is not in this province's catalogue",
                    }
                ],
            )
        if not procedure.active:
            problems.append({"field": "procedure_code", "message": "is retired"})
        agencies = {a.code: a.name for a in procedure.agencies}
        agency_code = data.agency_code or next(iter(agencies), "")
        if agency_code not in agencies:
            problems.append(
                {
                    "field": "agency_code",
                    "message": f"'{agency_code}' does not take in this procedure",
                }
            )
        elif agency_code not in catalogue.active_agencies:
            problems.append({"field": "agency_code", "message": "is not an active agency"})
        elif self.scope is not None and agency_code not in self.scope:
            problems.append({"field": "agency_code", "message": "is not your agency or below it"})
        applicant = data.applicant
        contact: dict[str, str | None] = {"phone": None, "email": None, "id_number": None}
        for field, check in (
            ("phone", normalise_phone),
            ("email", check_email),
            ("id_number", check_id_number),
        ):
            value = getattr(applicant, field)
            if value:
                try:
                    contact[field] = check(value)
                except ValueError as exc:
                    problems.append({"field": f"applicant.{field}", "message": str(exc)})
        if not applicant.full_name.strip():
            problems.append({"field": "applicant.full_name", "message": "is required"})
        now = datetime.now(UTC)
        received_at = self._aware(data.received_at) if data.received_at else now
        if received_at > now + CLOCK_SKEW:
            problems.append({"field": "received_at", "message": "is in the future"})
        if problems:
            raise Invalid("The dossier cannot be taken in.", errors=problems)

        calendar = await self.calendar()
        local_day = received_at.astimezone(calendar.tz).date()
        hours = procedure.working_hours
        dossier = Dossier(
            code=await next_code(self.session, agency_code, local_day),
            procedure_code=data.procedure_code,
            procedure_name=procedure.name,
            receiving_agency_code=agency_code,
            agency_code=agency_code,
            agency_name=agencies[agency_code],
            status="received",
            channel=data.channel,
            external_id=data.external_id,
            applicant_name=applicant.full_name.strip(),
            applicant_phone=contact["phone"],
            applicant_email=contact["email"],
            applicant_id_number=contact["id_number"],
            documents=[d.strip() for d in data.documents if d.strip()],
            received_at=received_at,
            due_at=calendar.due_at(received_at, hours),
            processing_hours=hours,
            tracking_key=new_tracking_key(),
            received_by=actor,
            event_count=0,
            test=test,
        )
        if not data.external_id:
            received = await self._receive(dossier, actor, received_at)
            return self._out(dossier, [received], None), True
        try:
            async with self.session.begin_nested():
                received = await self._receive(dossier, actor, received_at)
        except UniqueViolationError:
            # The same external_id, sent twice at once: the other request won.
            code = await self.session.scalar(
                select(Dossier.code).where(Dossier.external_id == data.external_id)
            )
            if code:
                return await self.get(code), False
            raise
        return self._out(dossier, [received], None), True

    async def _receive(self, dossier: Dossier, actor: str, at: datetime) -> DossierEvent:
        return await record_event(
            self.session,
            dossier,
            action="receive",
            from_status=None,
            actor=actor,
            at=at,
            notify=self._notify,
            new=True,
        )

    def _aware(self, moment: datetime) -> datetime:
        """A time without an offset is the province's local time."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=ZoneInfo(self.tenant.timezone))
        return moment

    # -- reading -------------------------------------------------------------------------

    async def _dossier(self, code: str, *, lock: bool = False) -> Dossier:
        if not CODE.fullmatch(code):
            raise NotFound(f"No dossier '{code[:64]}'.")
        query = select(Dossier).where(Dossier.code == code)
        dossier = await self.session.scalar(query.with_for_update() if lock else query)
        if dossier is None or (self.scope is not None and dossier.agency_code not in self.scope):
            raise NotFound(f"No dossier '{code}'.")
        return dossier

    async def _with_rating(self, code: str) -> tuple[Dossier, Rating | None]:
        if not CODE.fullmatch(code):
            raise NotFound(f"No dossier '{code[:64]}'.")
        row = (
            await self.session.execute(
                select(Dossier, Rating)
                .outerjoin(
                    Rating,
                    and_(
                        Rating.tenant_id == Dossier.tenant_id, Rating.dossier_code == Dossier.code
                    ),
                )
                .where(Dossier.code == code)
            )
        ).first()
        if row is None or (self.scope is not None and row[0].agency_code not in self.scope):
            raise NotFound(f"No dossier '{code}'.")
        return row[0], row[1]

    async def _events(self, code: str, *, public_only: bool = False) -> list[DossierEvent]:
        query = select(DossierEvent).where(DossierEvent.dossier_code == code)
        if public_only:
            query = query.where(DossierEvent.public)
        return list((await self.session.scalars(query.order_by(DossierEvent.seq))).all())

    async def get(self, code: str) -> DossierOut:
        dossier, rating = await self._with_rating(code)
        return self._out(dossier, await self._events(code), rating)

    def _out(
        self, dossier: Dossier, events: list[DossierEvent], rating: Rating | None
    ) -> DossierOut:
        # Times as the province reads them (+07:00), whatever PostgreSQL hands back (UTC).
        tz = ZoneInfo(self.tenant.timezone)

        def local(moment: datetime | None) -> datetime | None:
            return moment.astimezone(tz) if moment is not None else None

        receiving = next(
            (e.agency_name for e in events if e.action == "receive"), dossier.receiving_agency_code
        )
        return DossierOut(
            code=dossier.code,
            status=dossier.status,
            status_text=STATUS_TEXT[dossier.status],
            national_status=NATIONAL_CODES[dossier.status],
            procedure=Ref(code=dossier.procedure_code, name=dossier.procedure_name),
            agency=Ref(code=dossier.agency_code, name=dossier.agency_name),
            receiving_agency=Ref(code=dossier.receiving_agency_code, name=receiving),
            channel=dossier.channel,
            external_id=dossier.external_id,
            applicant=Applicant(
                full_name=dossier.applicant_name,
                phone=dossier.applicant_phone,
                email=dossier.applicant_email,
                id_number=dossier.applicant_id_number,
            ),
            documents=list(dossier.documents),
            received_at=dossier.received_at.astimezone(tz),
            due_at=dossier.due_at.astimezone(tz),
            completed_at=local(dossier.completed_at),
            returned_at=local(dossier.returned_at),
            timeliness=dossier.timeliness,
            received_by=dossier.received_by,
            tracking_url=self.links.tracking(dossier.code, dossier.tracking_key),
            receipt_url=self.links.receipt(dossier.code),
            allowed_actions=actions_from(dossier.status),
            timeline=[
                EventOut(
                    seq=e.seq,
                    action=e.action,
                    text=ACTION_TEXT[e.action],
                    from_status=e.from_status,
                    to_status=e.to_status,
                    agency=Ref(code=e.agency_code, name=e.agency_name),
                    to_agency=Ref(code=e.to_agency_code, name=e.to_agency_name or "")
                    if e.to_agency_code
                    else None,
                    actor=e.actor,
                    note=e.note,
                    public=e.public,
                    at=e.at.astimezone(tz),
                    due_at=local(e.due_at),
                )
                for e in events
            ],
            rating=None
            if rating is None
            else rating_out(
                rating.attitude, rating.result, rating.comment, rating.updated_at.astimezone(tz)
            ),
            first_due_at=local(dossier.first_due_at),
        )

    async def list(self, filters: Filters) -> DossierPage:
        per_page = max(1, min(filters.per_page, 100))
        query = select(Dossier, func.count().over().label("total"))
        now = datetime.now(UTC)
        conditions = []
        if filters.status:
            conditions.append(Dossier.status == filters.status)
        if filters.agency:
            conditions.append(Dossier.agency_code == filters.agency)
        if self.scope is not None:
            conditions.append(Dossier.agency_code.in_(self.scope))
        if filters.procedure:
            conditions.append(Dossier.procedure_code == filters.procedure)
        if filters.due_within_days is not None:
            conditions += [
                Dossier.status.in_(OPEN),
                Dossier.due_at <= now + timedelta(days=filters.due_within_days),
            ]
        if filters.overdue:
            conditions += [Dossier.status.in_(OPEN), Dossier.due_at < now]
        if filters.received_from:
            conditions.append(Dossier.received_at >= filters.received_from)
        if filters.received_to:
            conditions.append(Dossier.received_at < filters.received_to)
        if conditions:
            query = query.where(and_(*conditions))
        page = max(filters.page, 1)
        rows = (
            await self.session.execute(
                query.order_by(Dossier.received_at.desc(), Dossier.code.desc())
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        ).all()
        total = rows[0].total if rows else 0
        if not rows and page > 1:
            total = int(
                await self.session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
            )
        return DossierPage(
            items=[
                DossierSummary(
                    code=d.code,
                    status=d.status,
                    national_status=NATIONAL_CODES[d.status],
                    procedure_code=d.procedure_code,
                    agency_code=d.agency_code,
                    applicant_name=d.applicant_name,
                    received_at=d.received_at,
                    due_at=d.due_at,
                    timeliness=d.timeliness,
                    first_due_at=d.first_due_at,
                )
                for d, _ in rows
            ],
            total=total,
            page=page,
            per_page=per_page,
        )

    # -- the lifecycle -------------------------------------------------------------------

    async def apply(
        self, code: str, event: EventIn, actor: str, idempotency_key: str | None = None
    ) -> DossierOut:
        fingerprint = hashlib.sha256(
            msgspec.json.encode([code, msgspec.to_builtins(event)])
        ).hexdigest()
        if idempotency_key:
            done = await self.session.get(
                IdempotentRequest,
                (current_tenant(self.session), idempotency_key),
                with_for_update=True,
            )
            if done is not None:
                if done.fingerprint != fingerprint:
                    raise Invalid("This Idempotency-Key was used for a different request.")
                return msgspec.convert(done.response, DossierOut)
        dossier = await self._dossier(code, lock=True)
        target = next_status(dossier.status, event.action)
        note = event.note.strip()
        if event.action in NEEDS_REASON and not note:
            raise Invalid(
                f"'{event.action}' needs a note: the citizen will read the reason.",
                errors=[{"field": "note", "message": "is required"}],
            )
        if event.due_at is not None and event.action != "reschedule":
            raise Invalid(
                "Only a reschedule sets a new promised date.",
                errors=[{"field": "due_at", "message": "is for 'reschedule' only"}],
            )
        now = datetime.now(UTC)
        at = self._aware(event.at) if event.at else now
        last = await self.session.scalar(
            select(func.max(DossierEvent.at)).where(DossierEvent.dossier_code == code)
        )
        if at > now + CLOCK_SKEW:
            raise Invalid(
                "The event is in the future.",
                errors=[{"field": "at", "message": "is in the future"}],
            )
        if last is not None and at < last:
            raise Invalid(
                "The event is earlier than the dossier's last event.",
                errors=[{"field": "at", "message": "is before the last event"}],
            )
        calendar = await self.calendar()
        source = dossier.status
        to_agency = None
        new_due = None
        match event.action:
            case "transfer":
                to_agency = await self._transfer_target(dossier, event.agency_code)
            case "request_supplement":
                dossier.paused_at = at
            case "supplement_received":
                paused = calendar.working_minutes_between(dossier.paused_at or at, at)
                whole_days = dossier.processing_hours % HOURS_PER_DAY == 0
                dossier.due_at = calendar.extend(dossier.due_at, paused, whole_days=whole_days)
                if dossier.first_due_at is not None:  # the citizen's wait moves both promises
                    dossier.first_due_at = calendar.extend(
                        dossier.first_due_at, paused, whole_days=whole_days
                    )
                dossier.paused_at = None
            case "reschedule":
                new_due = self._new_promise(dossier, event.due_at, calendar, now)
            case "complete":
                dossier.completed_at = at
                # Against the first promise: a rescheduled dossier is still late (quá hạn).
                dossier.timeliness = calendar.timeliness(at, dossier.first_due_at or dossier.due_at)
            case "return":
                dossier.returned_at = at
            case "withdraw" | "reject":
                dossier.paused_at = None
        dossier.status = target
        await record_event(
            self.session,
            dossier,
            action=event.action,
            from_status=source,
            actor=actor,
            at=at,
            note=note,
            to_agency=to_agency,
            public=event.action != "note",
            due_at=new_due,
            notify=self._notify,
        )
        if to_agency:
            dossier.agency_code, dossier.agency_name = to_agency
        if new_due is not None:
            # After the event: its notice apologises for the promise this one replaces.
            dossier.first_due_at = dossier.first_due_at or dossier.due_at
            dossier.due_at = new_due
        await self.session.flush()
        out = await self.get(code)
        if idempotency_key:
            self.session.add(
                IdempotentRequest(
                    key=idempotency_key, fingerprint=fingerprint, response=msgspec.to_builtins(out)
                )
            )
            await self.session.flush()
        return out

    async def _notify(self, dossier: Dossier, event: DossierEvent) -> None:
        """The citizen's notices of a public event, written with it (the outbox)."""
        promised = dossier.due_at
        if event.action == "complete":
            kind: str | None = RESULT_KIND[dossier.timeliness or "on_time"]
            promised = dossier.first_due_at or dossier.due_at  # what "early"/"late" refer to
        else:
            kind = NOTICE_KIND.get(event.action)
        if kind is None:
            return
        values = self._values(
            dossier,
            agency=event.to_agency_name or dossier.agency_name,
            promised=promised,
            reason=event.note,
            at=event.at,
        )
        if event.due_at is not None:  # a reschedule: the promise it sets
            values["new_due_date"] = vn_date(event.due_at, self.tenant.timezone)
        to = await self._write_notices(dossier, kind, values)
        if kind == "returned":
            await offer_rating(self.session, dossier.code, to.phone, values, dossier.test)

    def _values(
        self, dossier: Dossier, *, agency: str, promised: datetime, reason: str, at: datetime
    ) -> dict[str, str]:
        """What a notice's template fills in."""
        tz = self.tenant.timezone
        tracking = self.links.tracking(dossier.code, dossier.tracking_key)
        return {
            "salutation": "Ông/Bà",
            "province": self.tenant.name,
            "code": dossier.code,
            "procedure": dossier.procedure_name,
            "agency": agency,
            "received_date": vn_date(dossier.received_at, tz),
            "due_date": vn_date(promised, tz),
            "tracking_url": tracking,
            "rating_url": f"{tracking}#danh-gia",
            "reason": reason,
            # For the province's own systems (webhook): what changed, when.
            "tenant": self.tenant.slug,
            "dossier_code": dossier.code,
            "status": dossier.status,
            "created_at": at.isoformat(),
        }

    async def _write_notices(self, dossier: Dossier, kind: str, values: dict[str, str]) -> Address:
        # A citizen who confirmed this phone in the chat hears there first.
        to = await reach_in_chat(
            self.session, Address(phone=dossier.applicant_phone, email=dossier.applicant_email)
        )
        await write_notices(
            self.session,
            kind=kind,
            to=to,
            values=values,
            dossier_code=dossier.code,
            test=dossier.test,
        )
        return to

    def _new_promise(
        self, dossier: Dossier, due_at: datetime | None, calendar: WorkCalendar, now: datetime
    ) -> datetime:
        """A reschedule's new promised date: later than the current one, not past, on a day
        the office is open (the citizen comes to collect the result that day)."""
        if due_at is None:
            raise Invalid(
                "A reschedule needs the new promised date.",
                errors=[{"field": "due_at", "message": "is required"}],
            )
        new_due = self._aware(due_at)
        local = new_due.astimezone(calendar.tz)
        if local.time() == time(0):
            # A date without its hour (midnight): promised for the end of that working day.
            new_due = datetime.combine(local.date(), PERIODS[-1][1], calendar.tz)
        tz = self.tenant.timezone
        problems = []
        if new_due <= now:
            problems.append({"field": "due_at", "message": "is in the past"})
        elif new_due <= dossier.due_at:
            problems.append(
                {
                    "field": "due_at",
                    "message": "must be later than the current promise "
                    f"{vn_date(dossier.due_at, tz)}",
                }
            )
        elif new_due > now + RESCHEDULE_HORIZON:
            problems.append({"field": "due_at", "message": "is more than a year away"})
        elif not calendar.is_working_day(new_due.astimezone(calendar.tz).date()):
            problems.append({"field": "due_at", "message": "is not a working day"})
        if problems:
            raise Invalid("The new promised date cannot be accepted.", errors=problems)
        return new_due

    # -- promises missed -----------------------------------------------------------------

    async def apologise_for_missed_promises(self, now: datetime, *, batch: int = 200) -> int:
        """One apology per dossier whose promise passed with no new one given: marked and
        chosen in one guarded UPDATE, so two sweeps at once never both send. Written in the
        caller's transaction; answers how many (a full batch: call again)."""
        missed = and_(
            Dossier.status.in_(APOLOGISED_STATUSES),
            Dossier.due_at < now,
            Dossier.due_at >= now - APOLOGY_LOOKBACK,
            Dossier.late_notified_due_at.is_distinct_from(Dossier.due_at),
        )
        chosen = (
            select(Dossier.code)
            .where(missed)
            .order_by(Dossier.due_at)
            .limit(batch)
            .with_for_update(skip_locked=True)  # another sweep's rows: its own to send
        )
        dossiers = (
            await self.session.scalars(
                update(Dossier)
                .where(Dossier.code.in_(chosen.scalar_subquery()), missed)
                .values(late_notified_due_at=Dossier.due_at)
                .returning(Dossier),
                execution_options={"synchronize_session": False},
            )
        ).all()
        for dossier in dossiers:
            values = self._values(
                dossier, agency=dossier.agency_name, promised=dossier.due_at, reason="", at=now
            )
            values["new_due_date"] = NO_NEW_DATE
            await self._write_notices(dossier, "late", values)
        return len(dossiers)

    async def _transfer_target(self, dossier: Dossier, agency_code: str | None) -> tuple[str, str]:
        if not agency_code:
            raise Invalid(
                "A transfer needs the agency it goes to.",
                errors=[{"field": "agency_code", "message": "is required"}],
            )
        if agency_code == dossier.agency_code:
            raise Invalid(
                "The dossier is already at this agency.",
                errors=[{"field": "agency_code", "message": "is the current agency"}],
            )
        if not await self.catalog.active_agency(agency_code):
            raise Invalid(
                "Transfers go to an active agency of this province.",
                errors=[
                    {"field": "agency_code", "message": f"'{agency_code}' is not an active agency"}
                ],
            )
        names = await self.catalog.agency_names({agency_code})
        return agency_code, names[agency_code]

    async def replace_tracking_key(self, code: str) -> TrackingKeyOut:
        """A lost receipt: a new key, and the old QR code stops working."""
        dossier = await self._dossier(code, lock=True)
        dossier.tracking_key = new_tracking_key()
        return TrackingKeyOut(
            code=code, tracking_url=self.links.tracking(code, dossier.tracking_key)
        )

    # -- what citizens see ---------------------------------------------------------------

    def _check_key(self, dossier: Dossier, key: str | None) -> None:
        """A wrong key looks exactly like a wrong code."""
        if key is not None and not hmac.compare_digest(key.encode(), dossier.tracking_key.encode()):
            raise NotFound(f"No dossier '{dossier.code}'.")

    async def rate(self, code: str, key: str, data: RatingIn) -> RatingOut:
        if self.tenant.suspended:
            raise Forbidden(
                "Trang của tỉnh đang tạm ngừng, chỉ xem được. "
                "(This province is suspended; its pages are read-only.)"
            )
        dossier, rating = await self._with_rating(code)
        self._check_key(dossier, key)
        if dossier.status != "returned":
            raise Conflict(
                "Hồ sơ được đánh giá sau khi đã trả kết quả. "
                "(A dossier is rated once its result has been returned.)"
            )
        if not can_rate(dossier.status, rating.created_at if rating else None):
            raise Conflict(
                "Đánh giá chỉ thay đổi được trong 7 ngày. "
                "(A rating can be changed for 7 days only.)"
            )
        now = datetime.now(UTC)
        if rating is None:
            rating = Rating(dossier_code=code, created_at=now)
            self.session.add(rating)
        rating.attitude = LEVELS[data.attitude]
        rating.result = LEVELS[data.result]
        rating.comment = data.comment.strip()
        rating.updated_at = now
        await self.session.flush()
        return rating_out(rating.attitude, rating.result, rating.comment, rating.updated_at)


def can_rate(status: str, rated_at: datetime | None) -> bool:
    """Once returned; a rating given can be changed for 7 days."""
    if status != "returned":
        return False
    return rated_at is None or datetime.now(UTC) - rated_at < RATING_CHANGEABLE


def rating_out(attitude: int, result: int, comment: str, updated_at: datetime) -> RatingOut:
    return RatingOut(
        attitude=LEVEL_NAMES[attitude],  # type: ignore[arg-type]
        result=LEVEL_NAMES[result],  # type: ignore[arg-type]
        comment=comment,
        updated_at=updated_at,
    )
