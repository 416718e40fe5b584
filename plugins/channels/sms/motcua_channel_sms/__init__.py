"""The SMS channel: brandname messages through eSMS and SpeedSMS, several accounts per tenant,
routed by weight and away from gateways that fail."""

from __future__ import annotations

import hmac
import logging
import random
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

import httpx

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

from . import esms, inbound, speedsms
from .gateway import Outgoing
from .gsm import fold_diacritics, is_gsm
from .phones import subscriber_number
from .routing import Router
from .settings import ProviderSettings, SmsSettings

__all__ = ["ProviderSettings", "SmsChannel", "SmsSettings"]

log = logging.getLogger("motcua.channel.sms")


class GatewaySend(Protocol):
    def __call__(
        self,
        http: httpx.AsyncClient,
        provider: ProviderSettings,
        message: Outgoing,
        *,
        time_limit: float,
    ) -> Awaitable[Sent]: ...


GATEWAYS: Final[dict[str, GatewaySend]] = {"esms": esms.send, "speedsms": speedsms.send}


class GatewayCheck(Protocol):
    def __call__(
        self, http: httpx.AsyncClient, provider: ProviderSettings, *, time_limit: float
    ) -> Awaitable[None]: ...


CHECKS: Final[dict[str, GatewayCheck]] = {"esms": esms.check, "speedsms": speedsms.check}

# eSMS's SendStatus values that end a message's story: 5 sent (SendSuccess says whether it
# reached the phone), 4 refused by eSMS. The others (1, 2, 7) are on the way.
FINISHED: Final = "5"
REJECTED: Final = "4"


class SmsChannel(Channel):
    """One instance per process: it keeps what it learns of each gateway's health (see
    routing.py). The keyword arguments exist for tests and drills; the core uses the defaults.
    """

    name = "sms"
    settings_type = SmsSettings
    # Four concatenated GSM parts (4 × 153). Text that needs UCS-2 costs 67 characters a part:
    # that is what strip_diacritics is for.
    capabilities = Capabilities(max_chars=612, delivery_receipts=True)

    def __init__(
        self,
        *,
        cooldown: float = 30.0,
        max_cooldown: float = 300.0,
        configuration_cooldown: float = 900.0,
        slow_after: float = 2.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._router = Router(
            cooldown=cooldown,
            max_cooldown=max_cooldown,
            configuration_cooldown=configuration_cooldown,
            clock=clock,
            rng=rng or random.Random(),  # noqa: S311 - spreads load, guards nothing
        )
        self._slow_after = slow_after
        self._time_limit = timeout

    @property
    def router(self) -> Router:
        """The gateways' health, for operators' views and tests."""
        return self._router

    def reaches(self, to: Address) -> bool:
        return bool(to.phone)

    def account(self, settings: SmsSettings) -> str:
        # The gateways' contracts (key and brandname): provinces may share a brandname.
        return " ".join(sorted(f"{p.kind}:{p.api_key}:{p.brandname}" for p in settings.providers))

    async def send(
        self, message: Rendered, to: Address, settings: SmsSettings, ctx: SendContext
    ) -> Sent:
        if not to.phone:
            raise DeliveryFailure(FailureKind.PERMANENT, "no-phone")
        subscriber_number(to.phone)  # a number no gateway takes must not count against them
        outgoing = self._outgoing(message.text, to.phone, settings, ctx)
        failures: list[tuple[str, DeliveryFailure]] = []
        for provider in self._router.order(settings.providers):
            if not self._router.claim(provider):
                continue
            try:
                return await self._send_through(provider, outgoing, ctx.http)
            except DeliveryFailure as failure:
                if failure.kind is FailureKind.PERMANENT:
                    raise  # the number is refused: another gateway would refuse it too
                log.warning(
                    "sms gateway failed, trying the next",
                    extra={
                        "gateway": provider.name,
                        "kind": str(failure.kind),
                        "code": failure.code,
                        "notice_id": ctx.idempotency_key,
                    },
                )
                failures.append((provider.name, failure))
        raise self._exhausted(settings.providers, failures)

    async def check_settings(self, settings: SmsSettings, ctx: SendContext) -> None:
        """Every account's credentials, by a call that sends nothing (eSMS's balance,
        SpeedSMS's account details); the first refusal names its account."""
        for provider in settings.providers:
            try:
                await CHECKS[provider.kind](ctx.http, provider, time_limit=self._time_limit)
            except DeliveryFailure as failure:
                detail = f"{provider.name}: {failure.detail}".rstrip(": ")
                raise DeliveryFailure(failure.kind, failure.code, detail) from None

    def verify(self, request: RawRequest, settings: SmsSettings) -> bool:
        """eSMS signs nothing: the CallbackUrl (and the address incoming texts are forwarded
        to) carries the tenant's token, and it must match; a text must also be recent."""
        if not settings.callback_token:
            return False
        token = request.query.get("token", "")
        if not hmac.compare_digest(token.encode(), settings.callback_token.encode()):
            return False
        return inbound.is_fresh(request.query)

    def parse(self, request: RawRequest, settings: SmsSettings) -> list[InboundEvent]:
        """A text a citizen sent to the province's number (eSMS's MO forward)."""
        return inbound.inbound_events(request.query)

    def parse_receipts(self, request: RawRequest, settings: SmsSettings) -> list[Receipt]:
        """eSMS's delivery report: a GET to the CallbackUrl once the message is finished."""
        query = request.query
        sms_id, status = query.get("SMSID"), query.get("SendStatus")
        if not sms_id or status not in (FINISHED, REJECTED):
            return []
        delivered = status == FINISHED and _count(query.get("SendSuccess")) > 0
        code = "" if delivered else (query.get("error_info") or f"SendStatus={status}")[:200]
        return [
            Receipt(
                delivered=delivered,
                notice_id=query.get("RequestId") or None,
                provider_id=sms_id,
                code=code,
            )
        ]

    async def _send_through(
        self, provider: ProviderSettings, outgoing: Outgoing, http: httpx.AsyncClient
    ) -> Sent:
        started = time.perf_counter()
        try:
            sent = await GATEWAYS[provider.kind](
                http, provider, outgoing, time_limit=self._time_limit
            )
        except DeliveryFailure as failure:
            if failure.kind is FailureKind.PERMANENT:
                self._router.answered(provider, slow=self._slow(started))
            else:
                self._router.failed(provider, failure.kind)
            raise
        except BaseException:
            self._router.abandoned(provider)
            raise
        self._router.answered(provider, slow=self._slow(started))
        return sent

    def _slow(self, started: float) -> bool:
        return time.perf_counter() - started > self._slow_after

    def _outgoing(self, text: str, phone: str, settings: SmsSettings, ctx: SendContext) -> Outgoing:
        # NFC changes no character the citizen sees, and decomposed marks would cost UCS-2.
        content = unicodedata.normalize("NFC", text)
        if settings.strip_diacritics:
            content = fold_diacritics(content)
        is_unicode = not is_gsm(content)
        if is_unicode and settings.strip_diacritics:
            # Kept rather than replaced: the template should lose them, not the citizen.
            outside = sorted({char for char in content if not is_gsm(char)})
            log.warning(
                "sms text needs UCS-2 despite strip_diacritics",
                extra={"characters": "".join(outside)[:20], "notice_id": ctx.idempotency_key},
            )
        return Outgoing(
            phone=phone,
            content=content,
            is_unicode=is_unicode,
            request_id=ctx.idempotency_key,
            callback_url=_with_token(ctx.receipt_url, settings.callback_token),
        )

    def _exhausted(
        self, providers: Sequence[ProviderSettings], failures: list[tuple[str, DeliveryFailure]]
    ) -> DeliveryFailure:
        """One failure standing for a send no gateway took: temporary if any may recover."""
        if not failures:
            misconfigured = all(self._router.health(p).misconfigured for p in providers)
            kind = FailureKind.CONFIGURATION if misconfigured else FailureKind.TEMPORARY
            return DeliveryFailure(kind, "no-gateway-available", "every gateway is resting")
        kinds = {failure.kind for _, failure in failures}
        kind = (
            FailureKind.TEMPORARY if FailureKind.TEMPORARY in kinds else FailureKind.CONFIGURATION
        )
        first = next(failure for _, failure in failures if failure.kind is kind)
        detail = "; ".join(f"{name}: {f.code} {f.detail}".strip() for name, f in failures)
        return DeliveryFailure(kind, first.code, detail)


def _with_token(receipt_url: str | None, token: str) -> str | None:
    """The CallbackUrl to hand eSMS: the receipt address carrying the token verify() checks."""
    if not receipt_url or not token:
        return receipt_url
    url = httpx.URL(receipt_url)
    return receipt_url if "token" in url.params else str(url.copy_add_param("token", token))


def _count(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
