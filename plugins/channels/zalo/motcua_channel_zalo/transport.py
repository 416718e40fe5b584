"""One HTTP exchange with Zalo, with the network's own failures already classified."""

from __future__ import annotations

from typing import Any

import httpx

from motcua.notices.channel import DeliveryFailure, FailureKind


async def exchange(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    json: Any = None,
    form: dict[str, str] | None = None,
) -> bytes:
    """The answer's body, or DeliveryFailure when the network or HTTP status says no."""
    try:
        response = await http.request(method, url, headers=headers, json=json, data=form)
    except httpx.TimeoutException as exc:
        raise DeliveryFailure(FailureKind.TEMPORARY, "timeout", type(exc).__name__) from None
    except httpx.TransportError as exc:
        raise DeliveryFailure(FailureKind.TEMPORARY, "network", type(exc).__name__) from None
    status = response.status_code
    if status in (408, 429) or status >= 500:
        raise DeliveryFailure(FailureKind.TEMPORARY, f"http-{status}")
    if status >= 400:
        # Zalo answers its own errors with 200; any other refusal means a wrong base address.
        raise DeliveryFailure(FailureKind.CONFIGURATION, f"http-{status}")
    return response.content
