"""The Zalo channel: free text to the OA's followers, approved ZNS templates to phone numbers,
and the events Zalo posts back (follows, messages, shared contact details, delivery receipts).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

import msgspec

from motcua.notices.channel import (
    Address,
    Capabilities,
    Channel,
    DeliveryFailure,
    FailureKind,
    InboundEvent,
    RawRequest,
    Receipt,
    Rendered,
    SendContext,
    Sent,
)
from motcua_channel_zalo import webhooks
from motcua_channel_zalo.errors import TOKEN_REJECTED, failure_for
from motcua_channel_zalo.oauth import refreshed_tokens
from motcua_channel_zalo.settings import ZaloSettings
from motcua_channel_zalo.transport import exchange

__all__ = ["ZaloChannel", "ZaloSettings"]

log = logging.getLogger("motcua.channel.zalo")

# Names in the tenant's token store; they win over the first tokens of the settings.
ACCESS_TOKEN: Final = "zalo.access_token"  # noqa: S105 (a name, not a token)
REFRESH_TOKEN: Final = "zalo.refresh_token"  # noqa: S105


class ApiAnswer(msgspec.Struct, kw_only=True):
    error: int = 0
    message: str = ""
    data: Any = None  # an object on success; errors may carry null or nothing


def zns_phone(phone: str) -> str:
    """ZNS takes 84912345678 where the platform stores +84912345678."""
    digits = phone.strip().removeprefix("+")
    return "84" + digits[1:] if digits.startswith("0") else digits


class ZaloChannel(Channel):
    name = "zalo"
    settings_type = ZaloSettings
    # needs_template stays False: followers get the free text through the OA. Only the ZNS
    # path needs an approved template, and send() refuses a kind without one (PERMANENT
    # "no-template") so the plan moves on to the next channel.
    capabilities = Capabilities(max_chars=2000, needs_opt_in=True, delivery_receipts=True)

    def __init__(self) -> None:
        self._refreshing: dict[tuple[str, str], asyncio.Lock] = {}

    def reaches(self, to: Address) -> bool:
        return bool(to.zalo_user_id or to.phone)

    def account(self, settings: ZaloSettings) -> str:
        return f"oa:{settings.oa_id}"  # Zalo counts an OA's calls, whoever makes them

    async def send(
        self, message: Rendered, to: Address, settings: ZaloSettings, ctx: SendContext
    ) -> Sent:
        if to.zalo_user_id:
            data = await self._call(
                settings,
                ctx,
                "POST",
                f"{settings.api_base.rstrip('/')}/v3.0/oa/message/cs",
                {"recipient": {"user_id": to.zalo_user_id}, "message": {"text": message.text}},
            )
            return Sent(provider_id=str(data.get("message_id") or ""), provider="zalo-oa")
        if not to.phone:
            raise DeliveryFailure(FailureKind.PERMANENT, "no-address", "no Zalo user id or phone")
        template_id = settings.zns_templates.get(message.kind)
        if template_id is None:
            raise DeliveryFailure(
                FailureKind.PERMANENT, "no-template", f"no ZNS template for {message.kind}"
            )
        data = await self._call(
            settings,
            ctx,
            "POST",
            f"{settings.zns_api_base.rstrip('/')}/message/template",
            {
                "phone": zns_phone(to.phone),
                "template_id": template_id,
                "template_data": message.template_data,
                "tracking_id": ctx.idempotency_key,
            },
        )
        return Sent(provider_id=str(data.get("msg_id") or ""), provider="zalo-zns")

    async def check_settings(self, settings: ZaloSettings, ctx: SendContext) -> None:
        data = await self._call(
            settings, ctx, "GET", f"{settings.api_base.rstrip('/')}/v2.0/oa/getoa"
        )
        oa_id = str(data.get("oa_id") or "")
        if oa_id and oa_id != settings.oa_id:
            raise DeliveryFailure(
                FailureKind.CONFIGURATION, "oa-mismatch", "the access token belongs to another OA"
            )

    def verify(self, request: RawRequest, settings: ZaloSettings) -> bool:
        headers = {name.lower(): value for name, value in request.headers.items()}
        return webhooks.is_authentic(
            headers,
            request.body,
            settings.app_id,
            settings.oa_secret_key,
            now_ms=int(time.time() * 1000),
        )

    def parse(self, request: RawRequest, settings: ZaloSettings) -> list[InboundEvent]:
        event = webhooks.decode(request.body)
        return [] if event is None else webhooks.inbound_events(event)

    def parse_receipts(self, request: RawRequest, settings: ZaloSettings) -> list[Receipt]:
        event = webhooks.decode(request.body)
        return [] if event is None else webhooks.receipts(event)

    async def _call(
        self, settings: ZaloSettings, ctx: SendContext, method: str, url: str, json: Any = None
    ) -> dict[str, Any]:
        """The answer's `data`, refreshing the access token once if Zalo rejects it."""
        token = await self._access_token(settings, ctx)
        answer = await self._request(ctx, method, url, json, token)
        if answer.error in TOKEN_REJECTED:
            token = await self._refreshed(settings, ctx, rejected=token)
            answer = await self._request(ctx, method, url, json, token)
        if answer.error != 0:
            raise failure_for(answer.error, answer.message)
        return answer.data if isinstance(answer.data, dict) else {}

    @staticmethod
    async def _request(ctx: SendContext, method: str, url: str, json: Any, token: str) -> ApiAnswer:
        body = await exchange(ctx.http, method, url, headers={"access_token": token}, json=json)
        try:
            return msgspec.json.decode(body, type=ApiAnswer, strict=False)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise DeliveryFailure(FailureKind.TEMPORARY, "bad-answer", "not Zalo's JSON") from None

    @staticmethod
    async def _access_token(settings: ZaloSettings, ctx: SendContext) -> str:
        return await ctx.tokens.get(ACCESS_TOKEN) or settings.access_token

    async def _refreshed(self, settings: ZaloSettings, ctx: SendContext, rejected: str) -> str:
        """A working access token in place of the rejected one, refreshing at most once."""
        lock = self._refreshing.setdefault((settings.app_id, settings.oa_id), asyncio.Lock())
        async with lock:
            current = await self._access_token(settings, ctx)
            if current != rejected:
                return current  # another send refreshed while this one waited
            stored = await ctx.tokens.get(REFRESH_TOKEN)
            # After the stored token, the settings' one: an operator may have issued new tokens.
            candidates = [t for t in dict.fromkeys((stored, settings.refresh_token)) if t]
            refused = DeliveryFailure(FailureKind.CONFIGURATION, "no-refresh-token")
            for refresh_token in candidates:
                try:
                    access, refresh = await refreshed_tokens(ctx.http, settings, refresh_token)
                except DeliveryFailure as failure:
                    if failure.kind is not FailureKind.CONFIGURATION:
                        raise
                    refused = failure
                    continue
                # Refresh token first: if the second write is lost, the next send spends it
                # for a new pair, where the reverse order would leave only a spent one.
                await ctx.tokens.set(REFRESH_TOKEN, refresh)
                await ctx.tokens.set(ACCESS_TOKEN, access)
                log.info("zalo access token refreshed", extra={"oa_id": settings.oa_id})
                return access
            # Another worker process may have spent the refresh token just before this one.
            current = await self._access_token(settings, ctx)
            if current != rejected:
                return current
            raise refused
