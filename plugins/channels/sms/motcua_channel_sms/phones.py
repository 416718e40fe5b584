"""Vietnamese phone numbers in the forms the gateways expect."""

from __future__ import annotations

import re
from typing import Final

from motcua.notices.channel import DeliveryFailure, FailureKind

_SEPARATORS: Final = re.compile(r"[\s.\-()]")
_SUBSCRIBER: Final = re.compile(r"[1-9][0-9]{8,9}")  # mobiles: 9 digits after 84; landlines 10
# "+84 0912…" is a common way of writing a number: the trunk 0 after the country code goes.
_PREFIXES: Final = ("+840", "+84", "840", "84", "0")


def subscriber_number(phone: str) -> str:
    """The digits after the country code, from +84…, 84… or 0…; anything else cannot be sent."""
    compact = _SEPARATORS.sub("", phone)
    for prefix in _PREFIXES:
        if compact.startswith(prefix) and _SUBSCRIBER.fullmatch(compact[len(prefix) :]):
            return compact[len(prefix) :]
    # Brandname gateways carry Vietnamese numbers only. The number itself stays out of the
    # message: failures end up in logs.
    raise DeliveryFailure(FailureKind.PERMANENT, "invalid-phone", "not a Vietnamese phone number")


def national(phone: str) -> str:
    """0912345678: eSMS's form."""
    return "0" + subscriber_number(phone)


def international(phone: str) -> str:
    """84912345678: SpeedSMS's form."""
    return "84" + subscriber_number(phone)
