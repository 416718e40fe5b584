"""What each Zalo `error` value means for delivery, as PROVIDERS.md lists them."""

from __future__ import annotations

from typing import Final

from motcua.notices.channel import DeliveryFailure, FailureKind

# The access token is invalid or expired: refresh it, then retry once.
TOKEN_REJECTED: Final = frozenset({-124, -216, -220})

FAILURE_KINDS: Final[dict[int, FailureKind]] = {
    -32: FailureKind.TEMPORARY,  # rate limited
    -108: FailureKind.PERMANENT,  # phone invalid
    -114: FailureKind.PERMANENT,  # the user cannot or will not receive
    -118: FailureKind.PERMANENT,  # no Zalo account
    -213: FailureKind.PERMANENT,  # not a follower
    -227: FailureKind.PERMANENT,  # outside the interaction window
    -230: FailureKind.PERMANENT,
    -232: FailureKind.PERMANENT,
    -101: FailureKind.CONFIGURATION,  # app or OA misconfigured
    -102: FailureKind.CONFIGURATION,
    -103: FailureKind.CONFIGURATION,
    -104: FailureKind.CONFIGURATION,
    -105: FailureKind.CONFIGURATION,
}


def failure_for(error: int, message: str = "") -> DeliveryFailure:
    """The failure a non-zero `error` stands for; any value not listed is temporary."""
    if error in TOKEN_REJECTED:
        # Only reached once a fresh token was refused too: the app or OA itself is wrong.
        return DeliveryFailure(FailureKind.CONFIGURATION, str(error), message)
    return DeliveryFailure(FAILURE_KINDS.get(error, FailureKind.TEMPORARY), str(error), message)
