"""What an SMTP server's refusal means for the notice: retry later, try another channel,
or tell the province its settings are wrong."""

from __future__ import annotations

import re
import ssl
from typing import Final

import aiosmtplib

from motcua.notices.channel import DeliveryFailure, FailureKind

# Authentication required / too weak / credentials invalid / encryption required for it.
AUTHENTICATION_CODES: Final = frozenset({530, 534, 535, 538})
# Servers quote the recipient in their replies; the core keeps details in logs and rows.
_ADDRESS: Final = re.compile(r"[^\s<>()\[\]:;,\"]+@[^\s<>()\[\]:;,\"]+")


def failure_from(exc: Exception) -> DeliveryFailure:
    """The DeliveryFailure for an exception raised while talking to the SMTP server."""
    match exc:
        case aiosmtplib.SMTPRecipientsRefused(recipients=[refused, *_]):
            return _by_reply(refused.code, refused.message, FailureKind.PERMANENT)
        case aiosmtplib.SMTPAuthenticationError():
            return _failure(FailureKind.CONFIGURATION, str(exc.code), exc.message)
        case aiosmtplib.SMTPDataError():  # the server refuses this message (size, content)
            return _by_reply(exc.code, exc.message, FailureKind.PERMANENT)
        case aiosmtplib.SMTPResponseException():
            # Sender refused, greeting or EHLO refused: about us, not the citizen.
            return _by_reply(exc.code, exc.message, FailureKind.CONFIGURATION)
        case aiosmtplib.SMTPNotSupported():  # an address in Unicode, a server without SMTPUTF8
            return _failure(FailureKind.PERMANENT, "smtputf8", str(exc))
        case aiosmtplib.SMTPTimeoutError():
            return _failure(FailureKind.TEMPORARY, "timeout", str(exc))
        case aiosmtplib.SMTPConnectError() if isinstance(exc.__cause__, ssl.SSLError):
            return _failure(FailureKind.CONFIGURATION, "tls", str(exc.__cause__))
        case aiosmtplib.SMTPServerDisconnected() | aiosmtplib.SMTPConnectError():
            return _failure(FailureKind.TEMPORARY, "connection", str(exc))
        case ssl.SSLError():  # certificate not trusted, name mismatch, not TLS at all
            return _failure(FailureKind.CONFIGURATION, "tls", str(exc))
        case aiosmtplib.SMTPException():  # the server offers no STARTTLS, or no AUTH
            return _failure(FailureKind.CONFIGURATION, "smtp", str(exc))
        case TimeoutError():
            return _failure(FailureKind.TEMPORARY, "timeout", str(exc))
        case _:
            return _failure(FailureKind.TEMPORARY, "connection", str(exc))


def _by_reply(code: int, message: str, on_5xx: FailureKind) -> DeliveryFailure:
    if code in AUTHENTICATION_CODES:
        kind = FailureKind.CONFIGURATION
    elif 500 <= code < 600:
        kind = on_5xx
    else:  # 4xx (and anything odd): the server may take it later
        kind = FailureKind.TEMPORARY
    return _failure(kind, str(code), message)


def _failure(kind: FailureKind, code: str, detail: str) -> DeliveryFailure:
    return DeliveryFailure(kind, code, _ADDRESS.sub("<address>", detail))
