"""The catalogue's rules for one agency or one procedure, shared by packs and admin edits.

Each check returns (field, message) pairs so that a pack can report every problem at once
with its file and line, and an admin edit can answer them all in one 422.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from motcua.catalog.schemas import AgencyIn, ProcedureIn

Problem = tuple[str, str]

CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")
AGENCY_LEVELS = ("province", "department", "commune", "district")  # district: history only
PROCEDURE_LEVELS = ("province", "department", "commune", "district")
ONLINE_LEVELS = ("full", "partial", "none")
HOURS_PER_DAY = 8
MAX_PROCESSING_DAYS = 365
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LIMITS = {"name": 500, "field": 200, "fee": 500, "result": 1000, "legal_basis": 2000}
MAX_DOCUMENTS, MAX_DOCUMENT = 100, 1000


def _text(field: str, value: str, *, required: bool, limit: int) -> list[Problem]:
    if required and not value.strip():
        return [(field, "is required")]
    if len(value) > limit:
        return [(field, f"is longer than {limit} characters")]
    if value.startswith(_FORMULA_START):
        # Spreadsheets would run it when the catalogue is exported and opened.
        return [(field, "starts like a spreadsheet formula (=, +, -, @)")]
    return []


def _code(field: str, value: str) -> list[Problem]:
    if not CODE.fullmatch(value):
        return [(field, "must be 1–32 letters, digits, '.', '_' or '-', starting alphanumeric")]
    return []


def processing_hours(value: str | float) -> int:
    """'15' or 15 → 120 working hours; '0.5' → 4; '4h' → 4. Raises ValueError."""
    text = str(value).strip().lower()
    try:
        hours = Decimal(text[:-1]) if text.endswith("h") else Decimal(text) * HOURS_PER_DAY
    except InvalidOperation:
        raise ValueError("must be working days (e.g. 15 or 0.5) or hours (e.g. 4h)") from None
    if not hours.is_finite() or hours < 0:
        raise ValueError("must not be negative")
    if hours != hours.to_integral_value():
        raise ValueError("must come to whole working hours (a working day is 8 hours)")
    if hours > MAX_PROCESSING_DAYS * HOURS_PER_DAY:
        raise ValueError(f"must be at most {MAX_PROCESSING_DAYS} working days")
    return int(hours)


def agency_problems(agency: AgencyIn) -> list[Problem]:
    problems = _code("code", agency.code)
    problems += _text("name", agency.name, required=True, limit=300)
    if agency.level not in AGENCY_LEVELS:
        problems.append(("level", f"must be one of {', '.join(AGENCY_LEVELS)}"))
    if agency.parent_code is not None:
        problems += _code("parent_code", agency.parent_code)
        if agency.parent_code == agency.code:
            problems.append(("parent_code", "an agency cannot be its own parent"))
    return problems


def procedure_problems(procedure: ProcedureIn) -> list[Problem]:
    problems = _code("code", procedure.code)
    for field in ("name", "field"):
        problems += _text(field, getattr(procedure, field), required=True, limit=LIMITS[field])
    for field in ("fee", "result", "legal_basis"):
        problems += _text(field, getattr(procedure, field), required=False, limit=LIMITS[field])
    if procedure.level not in PROCEDURE_LEVELS:
        problems.append(("level", f"must be one of {', '.join(PROCEDURE_LEVELS)}"))
    if procedure.online_level not in ONLINE_LEVELS:
        problems.append(("online_level", f"must be one of {', '.join(ONLINE_LEVELS)}"))
    if not procedure.agency_codes:
        problems.append(("agency_codes", "names no agency"))
    elif len(set(procedure.agency_codes)) != len(procedure.agency_codes):
        problems.append(("agency_codes", "names an agency twice"))
    for code in procedure.agency_codes:
        problems += _code("agency_codes", code)
    try:
        processing_hours(procedure.processing_days)
    except ValueError as exc:
        problems.append(("processing_days", str(exc)))
    if len(procedure.documents) > MAX_DOCUMENTS:
        problems.append(("documents", f"lists more than {MAX_DOCUMENTS} documents"))
    for document in procedure.documents:
        problems += _text("documents", document, required=True, limit=MAX_DOCUMENT)
    return problems


def processing_text(hours: int) -> str:
    """How a citizen reads a processing time, in Vietnamese."""
    if hours == 0:
        return "Trong ngày"
    if hours % HOURS_PER_DAY:
        return f"{hours} giờ làm việc"
    return f"{hours // HOURS_PER_DAY} ngày làm việc"
