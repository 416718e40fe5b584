"""The webhook channel: every notice, as signed JSON, to a system the province runs itself
(its own portal, a document-management system, a call centre), which decides what to do."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
import msgspec

from motcua.notices.channel import (
    Address,
    Capabilities,
    Channel,
    DeliveryFailure,
    FailureKind,
    InboundEvent,
    RawRequest,
    Rendered,
    SendContext,
    Sent,
)
from motcua_channel_webhook.inbound import inbound_events
from motcua_channel_webhook.settings import WebhookSettings
from motcua_channel_webhook.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify_signature,
)

__all__ = ["WebhookChannel", "WebhookNotice", "WebhookSettings", "sign", "verify_signature"]


class WebhookNotice(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The JSON body, keys in the documented order. Absent notice data is sent as null."""

    id: str  # the notice id: the receiver's key to drop a resend it has already seen
    tenant: str | None
    kind: str
    dossier_code: str | None
    status: str | None
    text: str
    created_at: str | None
    # Only on a chat reply: whom it is for, the "sender" the province's system gave when it
    # passed the citizen's message on. Dossier notices keep the documented keys alone.
    recipient: str | None = None


class _ReceiverAnswer(msgspec.Struct):
    id: str | None = None  # a receiver may answer with its own id for the notice


class WebhookChannel(Channel):
    name = "webhook"
    settings_type = WebhookSettings
    capabilities = Capabilities(max_chars=100_000)

    def reaches(self, to: Address) -> bool:
        return True  # the province's own system receives every notice, whoever it is for

    async def send(
        self, message: Rendered, to: Address, settings: WebhookSettings, ctx: SendContext
    ) -> Sent:
        _check_url(settings.url)
        data = message.template_data  # the core fills tenant, dossier code, status, time
        body = msgspec.json.encode(
            WebhookNotice(
                id=ctx.idempotency_key,
                tenant=data.get("tenant"),
                kind=message.kind,
                dossier_code=data.get("dossier_code"),
                status=data.get("status"),
                text=message.text,
                created_at=data.get("created_at"),
                recipient=to.portal_user_id,
            )
        )
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(settings.secret, timestamp, body),
        }
        try:
            response = await ctx.http.post(
                settings.url, content=body, headers=headers, timeout=settings.timeout
            )
        except httpx.TimeoutException:
            raise DeliveryFailure(FailureKind.TEMPORARY, "timeout") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.TooManyRedirects) as exc:
            raise DeliveryFailure(FailureKind.CONFIGURATION, "bad-url", str(exc)) from None
        except httpx.TransportError as exc:
            raise DeliveryFailure(FailureKind.TEMPORARY, "network", type(exc).__name__) from None

        if not response.is_success:
            raise DeliveryFailure(
                failure_kind(response.status_code),
                str(response.status_code),
                response.text[:200],
            )
        return Sent(provider_id=_receiver_id(response) or ctx.idempotency_key)

    async def check_settings(self, settings: WebhookSettings, ctx: SendContext) -> None:
        # Nothing to call: a receiver need not answer anything but notices.
        _check_url(settings.url)
        if not settings.secret:
            raise DeliveryFailure(FailureKind.CONFIGURATION, "no-secret")

    def verify(self, request: RawRequest, settings: WebhookSettings) -> bool:
        return verify_signature(
            settings.secret,
            request.headers.get(TIMESTAMP_HEADER.lower()),
            request.body,
            request.headers.get(SIGNATURE_HEADER.lower()),
        )

    def parse(self, request: RawRequest, settings: WebhookSettings) -> list[InboundEvent]:
        """A citizen's message the province's own system passes on (see inbound.py)."""
        return inbound_events(request.body)


def failure_kind(status: int) -> FailureKind:
    """What a receiver's non-2xx answer means, as PROVIDERS.md says."""
    if status == 429 or status >= 500:
        return FailureKind.TEMPORARY
    if 400 <= status < 500:
        return FailureKind.PERMANENT
    # 1xx/3xx: the url points at something that is not a notice receiver.
    return FailureKind.CONFIGURATION


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryFailure(FailureKind.CONFIGURATION, "bad-url", "url must be http(s)://host/…")


def _receiver_id(response: httpx.Response) -> str | None:
    if not response.content:
        return None
    try:
        return msgspec.json.decode(response.content, type=_ReceiverAnswer).id or None
    except msgspec.DecodeError:  # includes ValidationError: any other answer is fine
        return None
