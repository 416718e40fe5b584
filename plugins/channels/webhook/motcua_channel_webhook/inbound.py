"""What the province's own system posts back on /t/{slug}/hooks/webhook: a citizen's
message or action on the province's portal, signed like every notice we send it
(X-Motcua-Timestamp, X-Motcua-Signature: v1=HMAC-SHA256(secret, timestamp + "." + body)).

    {"id": "<its id, stable across its retries>", "kind": "text", "sender": "<citizen id>",
     "text": "…", "phone": "+84…", "name": "…"}

`kind` is `text`, `follow`, `unfollow` or `shared_info`.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec

from motcua.notices.channel import InboundEvent

Kind = Literal["text", "follow", "unfollow", "shared_info"]
KINDS: Final = ("text", "follow", "unfollow", "shared_info")


class InboundMessage(msgspec.Struct, kw_only=True):
    id: str
    kind: Kind
    sender: str
    text: str = ""
    phone: str | None = None
    name: str | None = None


def inbound_events(body: bytes) -> list[InboundEvent]:
    try:
        message = msgspec.json.decode(body, type=InboundMessage)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return []
    if not message.id.strip() or not message.sender.strip():
        return []
    return [
        InboundEvent(
            kind=message.kind,
            event_id=message.id[:200],
            sender=message.sender[:200],
            text=message.text,
            phone=message.phone,
            name=message.name,
        )
    ]
