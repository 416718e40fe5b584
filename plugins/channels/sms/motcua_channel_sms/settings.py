"""The `[channels.sms]` table of a tenant's settings: one or more brandname gateways."""

from __future__ import annotations

import hashlib
from typing import Annotated, Final, Literal

import msgspec

from motcua.notices.channel import Secret

Kind = Literal["esms", "speedsms"]

DEFAULT_API_BASE: Final[dict[str, str]] = {
    "esms": "https://rest.esms.vn",
    "speedsms": "https://api.speedsms.vn",
}


class ProviderSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One gateway account. Weight 0 keeps it as a standby, used only when the others are down."""

    kind: Kind
    api_key: Secret
    brandname: str
    secret_key: Secret = ""  # eSMS only
    api_base: str = ""  # empty: the provider's public address
    weight: Annotated[int, msgspec.Meta(ge=0)] = 1
    name: str = ""  # a label for operators; empty: the kind

    def __post_init__(self) -> None:
        self.api_base = (self.api_base or DEFAULT_API_BASE[self.kind]).rstrip("/")
        self.name = self.name or self.kind

    @property
    def health_key(self) -> str:
        """Who this account is, for health bookkeeping, without keeping the key in memory."""
        digest = hashlib.sha256(self.api_key.encode()).hexdigest()[:16]
        return f"{self.api_base}#{digest}"


class SmsSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    providers: Annotated[list[ProviderSettings], msgspec.Meta(min_length=1)]
    strip_diacritics: bool = False  # GSM 160/153 characters a part instead of UCS-2 70/67
    # eSMS signs nothing: the CallbackUrl carries `token=<this>` (added to the core's receipt
    # address when it has none) and verify() checks it. Empty: every receipt is refused.
    callback_token: Secret = ""
