"""The signature on every notice the webhook channel posts, and its check.

Provinces check it on their side with `verify_signature`; the core uses the same function
for signed JSON a province's system posts back on /hooks/webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Final

TIMESTAMP_HEADER: Final = "X-Motcua-Timestamp"
SIGNATURE_HEADER: Final = "X-Motcua-Signature"
VERSION: Final = "v1"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Motcua-Signature value: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>."""
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def verify_signature(
    secret: str,
    timestamp: int | str | None,
    body: bytes,
    signature_header: str | None,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> bool:
    """Whether `body` was signed with `secret` at `timestamp`, no more than `tolerance`
    seconds from now (either way), so a captured request cannot be replayed later.

    `signature_header` may carry several comma-separated `v1=` values (a sender rotating
    its secret signs with both); one match is enough. Missing or malformed values fail.
    """
    if not secret or timestamp is None or not signature_header:
        return False
    try:
        stamp = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        return False
    expected = sign(secret, stamp, body)
    offered = (part.strip() for part in signature_header.split(","))
    return any(hmac.compare_digest(expected, part) for part in offered)
