"""SpeedSMS (api.speedsms.vn): brandname messages and its error codes."""

from __future__ import annotations

from typing import Any, Final

import httpx

from motcua.notices.channel import DeliveryFailure, FailureKind, Sent

from .gateway import Outgoing, post_json
from .phones import international
from .settings import ProviderSettings

SEND_PATH: Final = "/index.php/sms/send"
USER_INFO_PATH: Final = "/index.php/user/info"
BRANDNAME: Final = 3  # sms_type of messages sent under the account's brandname
INVALID_PHONE: Final = "105"

# PROVIDERS.md names only the invalid number as permanent; SpeedSMS's own list of codes says
# which others are the account's fault. Every code not listed here is temporary.
FAILURE_KINDS: Final[dict[str, FailureKind]] = {
    INVALID_PHONE: FailureKind.PERMANENT,
    "007": FailureKind.CONFIGURATION,  # our IP is locked
    "008": FailureKind.CONFIGURATION,  # account blocked
    "009": FailureKind.CONFIGURATION,  # account not allowed to call the API
    # Every parameter is always sent in the documented form, so the one that can be wrong
    # is the sender, i.e. a brandname the account has not registered.
    "101": FailureKind.CONFIGURATION,
    "300": FailureKind.CONFIGURATION,  # balance exhausted
}


async def send(
    http: httpx.AsyncClient, provider: ProviderSettings, message: Outgoing, *, time_limit: float
) -> Sent:
    phone = international(message.phone)
    payload = {
        "to": [phone],
        "content": message.content,
        "sms_type": BRANDNAME,
        "sender": provider.brandname,
    }
    # The access token is the Basic user name; SpeedSMS ignores the password.
    auth = httpx.BasicAuth(provider.api_key, "x")
    url = provider.api_base + SEND_PATH
    answer = await post_json(http, url, payload, time_limit=time_limit, auth=auth)
    data = answer.get("data")
    data = data if isinstance(data, dict) else {}
    # The SDKs show `invalidPhone` under `data` on success and beside `code` on errors.
    if phone in _listed(data.get("invalidPhone")) or phone in _listed(answer.get("invalidPhone")):
        raise DeliveryFailure(FailureKind.PERMANENT, INVALID_PHONE, "SpeedSMS refused the number")
    if answer.get("status") == "success":
        # SpeedSMS has no request id: an acceptance is final even without its tranId.
        tran_id = data.get("tranId")
        provider_id = f"req-{message.request_id}" if tran_id is None else str(tran_id)
        return Sent(provider_id=provider_id, provider=provider.name)
    code = str(answer.get("code") or "?")
    detail = str(answer.get("message") or "")[:200]
    raise DeliveryFailure(FAILURE_KINDS.get(code, FailureKind.TEMPORARY), code, detail)


def _listed(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


async def check(http: httpx.AsyncClient, provider: ProviderSettings, *, time_limit: float) -> None:
    """The account's details: proves the access token, sends nothing."""
    auth = httpx.BasicAuth(provider.api_key, "x")
    answer = await post_json(
        http,
        provider.api_base + USER_INFO_PATH,
        None,
        time_limit=time_limit,
        auth=auth,
        method="GET",
    )
    if answer.get("status") == "success":
        return
    code = str(answer.get("code") or "?")
    detail = str(answer.get("message") or "")[:200]
    raise DeliveryFailure(FAILURE_KINDS.get(code, FailureKind.TEMPORARY), code, detail)
