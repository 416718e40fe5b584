"""Messages citizens text to the province's number (MO), as eSMS forwards them: an HTTP GET
to the address the province registered, with `sender` (84…), `content`, `smsid` and
`receiverTime` (yyyyMMddHHmmss, Vietnam's time). The address carries the tenant's token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from motcua.notices.channel import InboundEvent

FRESHNESS: Final = timedelta(minutes=5)  # older (or later) messages are refused as replays
_GATEWAY_ZONE: Final = ZoneInfo("Asia/Ho_Chi_Minh")


def received_at(query: dict[str, str]) -> datetime | None:
    """When the gateway got the message; None when it does not say or says nonsense."""
    raw = query.get("receiverTime", "").strip()
    try:
        return datetime.strptime(raw, "%Y%m%d%H%M%S").replace(tzinfo=_GATEWAY_ZONE)
    except ValueError:
        return None


def is_fresh(query: dict[str, str], now: datetime | None = None) -> bool:
    """A message must say when it arrived, and not long ago; a receipt says nothing of it."""
    if "sender" not in query:
        return True
    moment = received_at(query)
    current = now or datetime.now(UTC)
    return moment is not None and abs(current - moment) <= FRESHNESS


def international(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    return "+" + digits


def inbound_events(query: dict[str, str]) -> list[InboundEvent]:
    sender, sms_id = query.get("sender", "").strip(), query.get("smsid", "").strip()
    if not sender or not sms_id:
        return []
    return [
        InboundEvent(
            kind="text",
            event_id=sms_id[:200],
            sender=international(sender),
            text=query.get("content", ""),
            phone=international(sender),
        )
    ]
