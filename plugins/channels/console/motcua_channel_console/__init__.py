"""The console channel: logs each message instead of sending it. The default of `make run`,
so a newcomer sees every notice a citizen would get without any provider account."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from motcua.notices.channel import Address, Capabilities, Channel, Rendered, SendContext, Sent

log = logging.getLogger("motcua.channel.console")


class ConsoleSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """No settings: `[channels.console]` alone enables it."""


class ConsoleChannel(Channel):
    name = "console"
    settings_type = ConsoleSettings
    capabilities = Capabilities(max_chars=10_000, rate_per_second=1_000)

    def reaches(self, to: Address) -> bool:
        return True

    async def send(self, message: Rendered, to: Address, settings: Any, ctx: SendContext) -> Sent:
        # The text is what the citizen would read; the address is not logged.
        log.info(
            "notice",
            extra={"kind": message.kind, "text": message.text, "notice_id": ctx.idempotency_key},
        )
        return Sent(provider_id=f"console-{ctx.idempotency_key}", provider="console")
