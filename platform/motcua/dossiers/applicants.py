"""An applicant's contact details, normalised and checked."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-()]")
# After the country code: a mobile number has 9 digits (3x, 5x, 7x, 8x, 9x), a landline 10 (2x).
_NATIONAL = re.compile(r"[35789]\d{8}|2\d{9}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
_ID_NUMBER = re.compile(r"\d{9}|\d{12}|[A-Z]\d{7,8}")  # CMND, CCCD, passport


def normalise_phone(raw: str) -> str:
    """'0912 345 678', '84912345678', '+84 912.345.678' → '+84912345678'."""
    digits = _SEPARATORS.sub("", raw)
    if digits.startswith("+84"):
        national = digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        raise ValueError("is not a Vietnamese phone number")
    if not _NATIONAL.fullmatch(national):
        raise ValueError("is not a Vietnamese phone number")
    return "+84" + national


def check_email(raw: str) -> str:
    email = raw.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise ValueError("is not an email address")
    return email


def check_id_number(raw: str) -> str:
    number = raw.strip().upper()
    if not _ID_NUMBER.fullmatch(number):
        raise ValueError("must be a 12-digit citizen ID, a 9-digit ID or a passport number")
    return number
