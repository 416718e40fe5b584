"""eSMS (rest.esms.vn): customer-care brandname messages and their `CodeResult` values."""

from __future__ import annotations

from typing import Any, Final

import httpx

from motcua.notices.channel import DeliveryFailure, FailureKind, Sent

from .gateway import Outgoing, post_json
from .phones import national
from .settings import ProviderSettings

SEND_PATH: Final = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
BALANCE_PATH: Final = "/MainService.svc/json/GetBalance_json/"
CUSTOMER_CARE: Final = "2"  # SmsType of brandname messages to one citizen

ACCEPTED: Final = "100"
DUPLICATE_REQUEST: Final = "124"  # this RequestId was accepted before: already on its way

# Every code not listed (99 among them) is temporary, as PROVIDERS.md says.
FAILURE_KINDS: Final[dict[str, FailureKind]] = {
    "101": FailureKind.CONFIGURATION,  # wrong ApiKey or SecretKey
    "103": FailureKind.CONFIGURATION,  # balance exhausted
    "104": FailureKind.CONFIGURATION,  # brandname not registered
    "146": FailureKind.CONFIGURATION,  # customer-care template not registered
}


async def send(
    http: httpx.AsyncClient, provider: ProviderSettings, message: Outgoing, *, time_limit: float
) -> Sent:
    payload: dict[str, Any] = {
        "ApiKey": provider.api_key,
        "SecretKey": provider.secret_key,
        "Phone": national(message.phone),
        "Content": message.content,
        "Brandname": provider.brandname,
        "SmsType": CUSTOMER_CARE,
        "IsUnicode": "1" if message.is_unicode else "0",
        "RequestId": message.request_id,
    }
    if message.callback_url:
        payload["CallbackUrl"] = message.callback_url
    answer = await post_json(http, provider.api_base + SEND_PATH, payload, time_limit=time_limit)
    code = str(answer.get("CodeResult", ""))
    sms_id = str(answer.get("SMSID") or "")
    if code == ACCEPTED:
        # An acceptance without its SMSID is still an acceptance: never send it again.
        return Sent(provider_id=sms_id or f"req-{message.request_id}", provider=provider.name)
    if code == DUPLICATE_REQUEST:
        # Sending again would reach the citizen twice; the first acceptance stands.
        return Sent(provider_id=sms_id or f"dup-{message.request_id}", provider=provider.name)
    detail = str(answer.get("ErrorMessage") or "")[:200]
    raise DeliveryFailure(FAILURE_KINDS.get(code, FailureKind.TEMPORARY), code or "?", detail)


async def check(http: httpx.AsyncClient, provider: ProviderSettings, *, time_limit: float) -> None:
    """The account's balance: proves ApiKey and SecretKey, sends nothing."""
    payload = {"ApiKey": provider.api_key, "SecretKey": provider.secret_key}
    answer = await post_json(http, provider.api_base + BALANCE_PATH, payload, time_limit=time_limit)
    code = str(answer.get("CodeResponse", ""))
    if code == ACCEPTED:
        return
    detail = str(answer.get("ErrorMessage") or "")[:200]
    raise DeliveryFailure(FAILURE_KINDS.get(code, FailureKind.TEMPORARY), code or "?", detail)
