"""Time-based one-time passwords (RFC 6238, with RFC 4226's truncation): what authenticator
apps compute from a shared secret every 30 seconds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote

STEP = 30
DIGITS = 6
WINDOW = 1  # one step either side: a phone's clock may be half a minute off


def new_secret() -> str:
    """160 random bits in base32, as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def code_at(secret: str, moment: float) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int(moment // STEP))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


# How long a code stays acceptable: its own step and WINDOW steps after it. A used code is
# remembered this long, so that nobody who saw it typed can use it again.
REMEMBER_SECONDS = (2 * WINDOW + 1) * STEP


def matching_step(secret: str, code: str, moment: float | None = None) -> int | None:
    """The time step whose code this is (within the window), or None for a wrong code."""
    now = time.time() if moment is None else moment
    code = code.strip().replace(" ", "")
    for offset in range(-WINDOW, WINDOW + 1):
        at = now + offset * STEP
        if hmac.compare_digest(code_at(secret, at).encode(), code.encode()):
            return int(at // STEP)
    return None


def verify(secret: str, code: str, moment: float | None = None) -> bool:
    return matching_step(secret, code, moment) is not None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from a QR code."""
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={DIGITS}&period={STEP}"
