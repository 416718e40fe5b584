"""Personal data out of the logs: phone numbers, e-mail addresses and ID numbers that reach
a log line anyway (an exception's text, a provider's error) are masked before writing."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Vietnamese mobiles (+84 or 0, nine digits after) and 9- or 12-digit ID numbers.
_PHONE = re.compile(r"(?<![\d])(?:\+?84|0)(\d{2})\d{4,5}(\d{3})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![\d])\d{6}(\d{3})(?:\d{3})?(?!\d)")


def mask(text: str) -> str:
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _PHONE.sub(r"+84\1*****\2", text)
    return _ID_NUMBER.sub(r"******\1", text)
