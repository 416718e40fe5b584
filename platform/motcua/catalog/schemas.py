"""Wire types of the catalogue: what packs and admins send, what citizens read."""

from __future__ import annotations

from typing import Annotated

import msgspec

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class AgencyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code
    name: str
    level: str
    parent_code: str | None = None


class ProcedureIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code
    name: str
    field: str
    level: str
    agency_codes: list[str]
    # Working days ("15", 0.5) or working hours ("4h"), as provinces publish them.
    processing_days: str | float
    fee: str = ""
    documents: list[str] = msgspec.field(default_factory=list)
    result: str = ""
    online_level: str = "none"
    legal_basis: str = ""


class AgencyEdit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An admin's edit of one agency; the code is the path's."""

    name: str
    level: str
    parent_code: str | None = None


class ProcedureEdit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An admin's edit of one procedure; the code is the path's."""

    name: str
    field: str
    level: str
    agency_codes: list[str]
    processing_days: str | float
    fee: str = ""
    documents: list[str] = msgspec.field(default_factory=list)
    result: str = ""
    online_level: str = "none"
    legal_basis: str = ""


class AgencyRef(msgspec.Struct, kw_only=True):
    code: str
    name: str


class ProcessingTime(msgspec.Struct, kw_only=True):
    working_days: float
    working_hours: int
    text: str  # as a citizen reads it: "15 ngày làm việc", "4 giờ làm việc", "Trong ngày"


class ProcedureOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    field: str
    level: str
    agencies: list[AgencyRef]
    processing_time: ProcessingTime
    fee: str
    documents: list[str]
    result: str
    online_level: str
    legal_basis: str
    active: bool


class ProcedurePage(msgspec.Struct, kw_only=True):
    items: list[ProcedureOut]
    total: int
    page: int
    per_page: int


class AgencyOut(msgspec.Struct, kw_only=True):
    code: str
    name: str
    level: str
    parent_code: str | None
    depth: int
    active: bool


class AgencyPage(msgspec.Struct, kw_only=True):
    items: list[AgencyOut]
    total: int
    page: int
    per_page: int
