"""The interface a channel plugin implements. Plugins know HTTP (or SMTP) and their
provider's codes; they know nothing of dossiers, tenants or the database.

A plugin is one class in its own distribution, registered under the entry-point group
``motcua.channels``::

    [project.entry-points."motcua.channels"]
    zalo = "motcua_channel_zalo:ZaloChannel"

The core finds plugins by that registration (``discover()``), never by importing a name.
"""

from __future__ import annotations

import enum
import importlib.metadata
import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, ClassVar, Protocol, get_args, get_type_hints

import httpx
import msgspec

ENTRY_POINT_GROUP = "motcua.channels"
log = logging.getLogger(__name__)


class SecretMarker:
    """Marks a settings field that holds a credential: written env:VAR, never returned."""


Secret = Annotated[str, SecretMarker()]
_ENV_REFERENCE = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    max_chars: int  # longest body the channel carries
    needs_template: bool = False  # only pre-approved templates (Zalo ZNS)
    needs_opt_in: bool = False  # the citizen must follow or subscribe first (Zalo OA)
    delivery_receipts: bool = False
    read_receipts: bool = False
    rate_per_second: float = 10.0  # the provider's usual ceiling per account


class Address(msgspec.Struct, frozen=True, kw_only=True):
    """Where a citizen can be reached. Phones are +84…; each plugin converts."""

    phone: str | None = None
    email: str | None = None
    zalo_user_id: str | None = None
    # The id the province's own system (webhook) gave a citizen who wrote through it.
    portal_user_id: str | None = None


class Rendered(msgspec.Struct, frozen=True, kw_only=True):
    """A message ready to send, in the citizen's language."""

    kind: str  # the notice kind, e.g. "result_ready"
    text: str  # plain text: chat, SMS, the text part of an email
    subject: str = ""
    html: str | None = None
    template_data: dict[str, str] = msgspec.field(default_factory=dict)  # for ZNS templates
    link: str | None = None  # the tracking address, when there is one
    unsubscribe_url: str | None = None


class Sent(msgspec.Struct, frozen=True, kw_only=True):
    provider_id: str  # the provider's message id
    provider: str = ""  # which provider or account carried it, where a channel has several


class FailureKind(enum.StrEnum):
    TEMPORARY = "temporary"  # retry later, on the same channel
    PERMANENT = "permanent"  # this channel cannot reach this citizen: fail over
    CONFIGURATION = "configuration"  # the province's settings are wrong: fail over, alert


class DeliveryFailure(Exception):
    def __init__(self, kind: FailureKind, code: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {code} {detail}".strip())
        self.kind = kind
        self.code = code
        self.detail = detail


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's word on a message it carried."""

    delivered: bool
    notice_id: str | None = None  # when the provider echoes our id (tracking id, request id)
    provider_id: str | None = None
    code: str = ""


class InboundEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Something a citizen did in the channel."""

    kind: str  # "follow", "unfollow", "text", "shared_info"
    event_id: str  # stable across a provider's retries
    sender: str  # the citizen's id in the channel
    text: str = ""
    phone: str | None = None
    name: str | None = None


class RawRequest(msgspec.Struct, frozen=True, kw_only=True):
    """An inbound webhook as it arrived, before anything trusted it."""

    method: str
    headers: dict[str, str]  # lower-case names
    query: dict[str, str]
    body: bytes


class TokenStore(Protocol):
    """Where a plugin keeps credentials it obtains itself (refreshed tokens), per tenant."""

    async def get(self, name: str) -> str | None: ...

    async def set(self, name: str, value: str) -> None: ...


@dataclass
class SendContext:
    http: httpx.AsyncClient
    idempotency_key: str  # the notice's id: providers that accept one never send twice
    tokens: TokenStore
    receipt_url: str | None = None  # where the provider may post delivery receipts


class Channel(ABC):
    name: ClassVar[str]
    settings_type: ClassVar[type[msgspec.Struct]]
    capabilities: ClassVar[Capabilities]

    @abstractmethod
    def reaches(self, to: Address) -> bool:
        """Whether this channel can carry a message to that address at all."""

    @abstractmethod
    async def send(self, message: Rendered, to: Address, settings: Any, ctx: SendContext) -> Sent:
        """Hand the message to the provider, or raise DeliveryFailure."""

    def account(self, settings: Any) -> str:
        """The provider account these settings send through, when provinces may share one
        (an OA, an SMS brandname contract, a mailbox): its rate, `capabilities.
        rate_per_second`, is then counted across every province using it. Empty: none."""
        return ""

    async def check_settings(self, settings: Any, ctx: SendContext) -> None:  # noqa: B027
        """A cheap call proving the credentials work; raise DeliveryFailure if not."""

    def verify(self, request: RawRequest, settings: Any) -> bool:
        """Whether an inbound webhook really comes from the provider."""
        return False

    def parse(self, request: RawRequest, settings: Any) -> list[InboundEvent]:
        return []

    def parse_receipts(self, request: RawRequest, settings: Any) -> list[Receipt]:
        return []


@cache
def discover() -> dict[str, type[Channel]]:
    """Every installed channel plugin, by name."""
    found: dict[str, type[Channel]] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = entry.load()
        except (ImportError, AttributeError):
            # A broken plugin must not take the others down with it.
            log.exception("channel plugin %s cannot be loaded", entry.name)
            continue
        if isinstance(plugin, type) and issubclass(plugin, Channel):
            found[plugin.name] = plugin
    return found


def secret_fields(settings_type: type[msgspec.Struct]) -> set[str]:
    hints = get_type_hints(settings_type, include_extras=True)
    return {
        name
        for name, hint in hints.items()
        if any(isinstance(arg, SecretMarker) for arg in get_args(hint))
    }


class Decrypter(Protocol):
    """The vault's side that reads secrets back (motcua.notices.vault.Vault)."""

    def decrypt(self, token: bytes) -> str | None: ...


# A secret an admin gave through the API is stored as "vault:<Fernet token>", never in clear.
VAULT_PREFIX = "vault:"


def resolve_settings(
    channel: type[Channel],
    raw: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    vault: Decrypter | None = None,
) -> Any:
    """The plugin's typed settings, with every env:VAR reference read from the environment
    and every secret kept in the vault decrypted."""
    environ = os.environ if environ is None else environ

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(VAULT_PREFIX):
            clear = vault.decrypt(value[len(VAULT_PREFIX) :].encode()) if vault else None
            if clear is None:
                # No vault at hand, or none of MOTCUA_SECRET_KEYS opens it (rotated away).
                raise DeliveryFailure(
                    FailureKind.CONFIGURATION,
                    "undecryptable-secret",
                    "a secret kept in the vault cannot be read with the current keys",
                )
            return clear
        if isinstance(value, str) and (match := _ENV_REFERENCE.fullmatch(value)):
            if match.group(1) not in environ:
                raise DeliveryFailure(
                    FailureKind.CONFIGURATION,
                    "missing-secret",
                    f"environment variable {match.group(1)} is not set",
                )
            return environ[match.group(1)]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    try:
        return msgspec.convert(resolve(dict(raw)), channel.settings_type, strict=False)
    except msgspec.ValidationError as exc:
        raise DeliveryFailure(FailureKind.CONFIGURATION, "bad-settings", str(exc)) from None
