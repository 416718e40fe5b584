"""Wire types of dossiers: what officers and integrations send, what staff and citizens read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from motcua.audit.schemas import Viewer

Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Channel = Literal["counter", "online", "chat", "integration"]
Level = Literal["rat_hai_long", "hai_long", "khong_hai_long"]


class ApplicantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    phone: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    id_number: Annotated[str, msgspec.Meta(max_length=20)] | None = None


class DossierIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    procedure_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    applicant: ApplicantIn
    agency_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    received_at: datetime | None = None
    documents: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=500)]], msgspec.Meta(max_length=100)
    ] = msgspec.field(default_factory=list)
    channel: Channel = "counter"
    external_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class EventIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: Literal[
        "start",
        "transfer",
        "request_supplement",
        "supplement_received",
        "complete",
        "return",
        "reject",
        "withdraw",
        "reschedule",
        "note",
    ]
    note: Note = ""
    agency_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    at: datetime | None = None
    due_at: (
        Annotated[
            datetime,
            msgspec.Meta(
                description="reschedule only: the new promised date (hẹn lại ngày trả kết "
                "quả), later than the current one, not past, on a working day; without an "
                "offset it is the province's local time"
            ),
        ]
        | None
    ) = None


class Ref(msgspec.Struct, kw_only=True):
    code: str
    name: str


class Applicant(msgspec.Struct, kw_only=True):
    full_name: str
    phone: str | None
    email: str | None
    id_number: str | None


class EventOut(msgspec.Struct, kw_only=True):
    seq: int
    action: str
    text: str
    from_status: str | None
    to_status: str
    agency: Ref
    to_agency: Ref | None
    actor: str
    note: str
    public: bool
    at: datetime
    due_at: datetime | None = None  # the new promise a reschedule set


class RatingOut(msgspec.Struct, kw_only=True):
    attitude: Level
    result: Level
    comment: str
    updated_at: datetime


class DossierOut(msgspec.Struct, kw_only=True):
    code: str
    status: str
    status_text: str
    national_status: int
    procedure: Ref
    agency: Ref
    receiving_agency: Ref
    channel: str
    external_id: str | None
    applicant: Applicant
    documents: list[str]
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None
    returned_at: datetime | None
    timeliness: str | None
    received_by: str
    tracking_url: str
    receipt_url: str
    allowed_actions: list[str]
    timeline: list[EventOut]
    rating: RatingOut | None
    # Set when a reschedule replaced the first promise: timeliness is counted against it.
    first_due_at: datetime | None = None


class DossierSummary(msgspec.Struct, kw_only=True):
    code: str
    status: str
    national_status: int
    procedure_code: str
    agency_code: str
    applicant_name: str
    received_at: datetime
    due_at: datetime
    timeliness: str | None
    first_due_at: datetime | None = None  # set when a reschedule replaced it


class DossierPage(msgspec.Struct, kw_only=True):
    items: list[DossierSummary]
    total: int
    page: int
    per_page: int


class TrackEvent(msgspec.Struct, kw_only=True):
    text: str
    agency: str
    note: str
    at: datetime
    due_at: datetime | None = None  # a reschedule: the new promised date


class TrackOut(msgspec.Struct, kw_only=True):
    """What a citizen sees. Without the tracking key: the status and the promised date only."""

    code: str
    status: str
    status_text: str
    national_status: int
    due_at: datetime  # the promise as it stands: after a reschedule, the new date
    # The agency apologised and moved the promise (phiếu xin lỗi và hẹn lại ngày trả kết quả).
    rescheduled: bool = False
    first_due_at: datetime | None = None  # with the key: the promise it replaced
    procedure: Ref | None = None
    agency: Ref | None = None
    timeliness: str | None = None
    timeline: list[TrackEvent] = msgspec.field(default_factory=list)
    can_rate: bool = False
    rating: RatingOut | None = None
    # With the key only: which agency opened the dossier and when (never which officer).
    viewed_by: list[Viewer] = msgspec.field(default_factory=list)


class RatingIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    attitude: Level  # thái độ của cán bộ
    result: Level  # kết quả giải quyết
    comment: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class TrackingKeyOut(msgspec.Struct, kw_only=True):
    code: str
    tracking_url: str
