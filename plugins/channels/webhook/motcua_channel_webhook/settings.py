"""The `[channels.webhook]` table of a tenant.toml."""

from __future__ import annotations

import msgspec

from motcua.notices.channel import Secret


class WebhookSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: str  # the province's receiver, e.g. https://mot-cua.angiang.gov.vn/hooks/motcua
    secret: Secret  # the HMAC key both sides share
    timeout: float = 10.0  # seconds for the whole request
