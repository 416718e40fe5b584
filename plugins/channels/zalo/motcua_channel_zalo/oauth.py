"""Trading a refresh token for a new pair at Zalo's OAuth server."""

from __future__ import annotations

import httpx
import msgspec

from motcua.notices.channel import DeliveryFailure, FailureKind
from motcua_channel_zalo.settings import ZaloSettings
from motcua_channel_zalo.transport import exchange


class TokenAnswer(msgspec.Struct, kw_only=True):
    access_token: str = ""
    refresh_token: str = ""
    expires_in: str | int = ""
    error: int = 0
    error_name: str = ""
    error_description: str = ""
    message: str = ""


async def refreshed_tokens(
    http: httpx.AsyncClient, settings: ZaloSettings, refresh_token: str
) -> tuple[str, str]:
    """(access token, refresh token); the refresh token given is spent whatever happens."""
    body = await exchange(
        http,
        "POST",
        f"{settings.oauth_base.rstrip('/')}/v4/oa/access_token",
        headers={"secret_key": settings.app_secret},
        form={
            "app_id": settings.app_id,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        },
    )
    try:
        answer = msgspec.json.decode(body, type=TokenAnswer, strict=False)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise DeliveryFailure(FailureKind.TEMPORARY, "bad-answer", "token refresh") from None
    if not (answer.access_token and answer.refresh_token):
        # Only the province can issue new tokens from the Zalo developer console.
        code = str(answer.error) if answer.error else "refresh-refused"
        reason = answer.error_name or answer.error_description or answer.message
        raise DeliveryFailure(FailureKind.CONFIGURATION, code, f"token refresh refused: {reason}")
    return answer.access_token, answer.refresh_token
