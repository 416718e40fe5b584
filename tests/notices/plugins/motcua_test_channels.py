"""Channel plugins defined by the test suite and registered like any third party's: through
an entry point in the "motcua.channels" group (see the .dist-info folder beside this file),
not by anything the core imports by name."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

import msgspec

from motcua.notices.channel import (
    Address,
    Capabilities,
    Channel,
    DeliveryFailure,
    FailureKind,
    RawRequest,
    Receipt,
    Rendered,
    Secret,
    SendContext,
    Sent,
)


class FlakySettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    fail_times: int = 0  # temporary failures before each notice goes through
    hook_token: str = ""
    passphrase: Secret = ""  # marked secret though its name does not say so


class FlakyChannel(Channel):
    """A provider that fails temporarily a set number of times per notice, then delivers.
    It remembers every message it accepted, by notice id."""

    name = "flaky"
    settings_type = FlakySettings
    capabilities = Capabilities(max_chars=1000, delivery_receipts=True)
    failures: ClassVar[Counter[str]] = Counter()
    accepted: ClassVar[dict[str, list[str]]] = {}

    def reaches(self, to: Address) -> bool:
        return to.phone is not None

    async def send(self, message: Rendered, to: Address, settings: Any, ctx: SendContext) -> Sent:
        key = ctx.idempotency_key
        if self.failures[key] < settings.fail_times:
            self.failures[key] += 1
            raise DeliveryFailure(FailureKind.TEMPORARY, "busy", "try again")
        self.accepted.setdefault(key, []).append(message.text)
        return Sent(provider_id=f"flaky-{key}", provider="flaky")

    def verify(self, request: RawRequest, settings: Any) -> bool:
        return bool(settings.hook_token) and request.query.get("token") == settings.hook_token

    def parse_receipts(self, request: RawRequest, settings: Any) -> list[Receipt]:
        body = msgspec.json.decode(request.body)
        return [
            Receipt(
                delivered=body["delivered"],
                notice_id=body.get("notice_id"),
                provider_id=body.get("provider_id"),
                code=body.get("code", ""),
            )
        ]


class RefusingChannel(Channel):
    """A provider that cannot reach anyone: every send is a permanent failure."""

    name = "refusing"
    settings_type = FlakySettings
    capabilities = Capabilities(max_chars=1000)
    tried: ClassVar[list[str]] = []

    def reaches(self, to: Address) -> bool:
        return True

    async def send(self, message: Rendered, to: Address, settings: Any, ctx: SendContext) -> Sent:
        self.tried.append(ctx.idempotency_key)
        raise DeliveryFailure(FailureKind.PERMANENT, "-118", "no account")
