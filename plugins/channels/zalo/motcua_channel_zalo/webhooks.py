"""The events Zalo posts to `/t/{slug}/hooks/zalo`: their signature and their meaning."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

import msgspec

from motcua.notices.channel import InboundEvent, Receipt

SIGNATURE_HEADER: Final = "x-zevent-signature"
FRESHNESS_MS: Final = 5 * 60 * 1000  # older (or later) events are refused as replays


class ZaloUser(msgspec.Struct, kw_only=True):
    id: str = ""


class ZaloMessage(msgspec.Struct, kw_only=True):
    msg_id: str = ""
    text: str = ""
    tracking_id: str = ""
    delivery_time: str = ""


class SharedInfo(msgspec.Struct, kw_only=True):
    name: str = ""
    phone: str = ""
    address: str = ""


class ZaloEvent(msgspec.Struct, kw_only=True):
    """One webhook body; Zalo adds fields over time, so unknown ones are ignored."""

    event_name: str
    timestamp: str | int  # milliseconds since the epoch; Zalo writes it as a string
    app_id: str = ""
    oa_id: str = ""
    follower: ZaloUser | None = None
    sender: ZaloUser | None = None
    recipient: ZaloUser | None = None
    message: ZaloMessage | None = None
    info: SharedInfo | None = None

    @property
    def sent_at(self) -> str:
        """The timestamp as its digits, the form the signature covers."""
        return str(self.timestamp)


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The hex Zalo puts after `mac=`: plain SHA-256 of app id, body, timestamp and key."""
    signed = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(signed).hexdigest()


def decode(body: bytes) -> ZaloEvent | None:
    try:
        return msgspec.json.decode(body, type=ZaloEvent)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def is_authentic(
    headers: dict[str, str], body: bytes, app_id: str, oa_secret_key: str, now_ms: int
) -> bool:
    event = decode(body)
    mac = headers.get(SIGNATURE_HEADER, "").strip()
    if event is None or not mac.startswith("mac="):
        return False
    try:
        sent_at = int(event.sent_at)
    except ValueError:
        return False
    if abs(now_ms - sent_at) > FRESHNESS_MS:
        return False
    expected = signature(app_id, body, event.sent_at, oa_secret_key)
    return hmac.compare_digest(mac.removeprefix("mac=").lower(), expected)


def event_id(event: ZaloEvent, sender: str) -> str:
    """Zalo retries resend the same body: the message id, or a digest of what identifies it."""
    if event.message is not None and event.message.msg_id:
        return event.message.msg_id
    identity = "|".join((event.app_id, event.event_name, sender, event.sent_at))
    return hashlib.sha256(identity.encode()).hexdigest()


def international(phone: str) -> str:
    """Zalo writes phones 84…; the platform stores +84…."""
    phone = phone.strip()
    if phone.startswith("0"):
        return "+84" + phone[1:]
    return phone if phone.startswith("+") else "+" + phone


def inbound_events(event: ZaloEvent) -> list[InboundEvent]:
    if event.event_name in ("follow", "unfollow") and event.follower:
        sender = event.follower.id
        return [
            InboundEvent(kind=event.event_name, event_id=event_id(event, sender), sender=sender)
        ]
    if event.event_name == "user_send_text" and event.sender and event.message:
        sender = event.sender.id
        return [
            InboundEvent(
                kind="text",
                event_id=event_id(event, sender),
                sender=sender,
                text=event.message.text,
            )
        ]
    if event.event_name == "user_submit_info" and event.sender and event.info:
        sender = event.sender.id
        phone = international(event.info.phone) if event.info.phone else None
        return [
            InboundEvent(
                kind="shared_info",
                event_id=event_id(event, sender),
                sender=sender,
                phone=phone,
                name=event.info.name or None,
            )
        ]
    return []


def receipts(event: ZaloEvent) -> list[Receipt]:
    if event.event_name == "user_received_message" and event.message:
        return [
            Receipt(
                delivered=True,
                notice_id=event.message.tracking_id or None,
                provider_id=event.message.msg_id or None,
            )
        ]
    return []
