"""What every gateway call shares: the message as it leaves, and HTTP trouble as failures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from motcua.notices.channel import DeliveryFailure, FailureKind


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    phone: str  # +84…, as the core stores it; each gateway converts
    content: str
    is_unicode: bool  # UCS-2 rather than GSM 7-bit
    request_id: str  # the notice id
    callback_url: str | None


async def post_json(
    http: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any] | None,
    *,
    time_limit: float,
    auth: httpx.BasicAuth | None = None,
    method: str = "POST",
) -> dict[str, Any]:
    """The gateway's JSON answer, or the DeliveryFailure its HTTP status stands for."""
    try:
        response = await http.request(
            method,
            url,
            json=payload,
            auth=httpx.USE_CLIENT_DEFAULT if auth is None else auth,
            timeout=time_limit,
        )
    except httpx.TimeoutException:
        raise DeliveryFailure(
            FailureKind.TEMPORARY, "timeout", "the gateway did not answer"
        ) from None
    except httpx.TransportError as exc:
        raise DeliveryFailure(FailureKind.TEMPORARY, "network", type(exc).__name__) from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise DeliveryFailure(FailureKind.TEMPORARY, f"http-{status}")
    if status in (401, 403):
        raise DeliveryFailure(FailureKind.CONFIGURATION, f"http-{status}", "credentials refused")
    if status in (404, 405):
        raise DeliveryFailure(FailureKind.CONFIGURATION, f"http-{status}", "check api_base")
    if status >= 400:
        # Nothing in our requests depends on the citizen but the number, which is checked
        # before sending: another gateway, or this one later, may take the message.
        raise DeliveryFailure(FailureKind.TEMPORARY, f"http-{status}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise DeliveryFailure(
            FailureKind.TEMPORARY, "bad-answer", "the gateway's answer is not JSON"
        )
    return answer
