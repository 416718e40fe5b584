"""The one-click unsubscribe link of a broadcast (RFC 8058): signed, so nobody can
unsubscribe somebody else by guessing, and checked against every key in rotation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Sequence

from motcua.notices.vault import Vault
from motcua.settings import Settings

_PURPOSE = b"motcua unsubscribe\x00"
_MAC_BYTES = 16


def signing_keys(settings: Settings) -> list[bytes]:
    """The platform's secret keys, newest first (development: the vault's own key)."""
    raw = list(settings.secret_keys)
    if not raw:
        Vault.for_settings(settings)  # makes the development key if there is none yet
        raw = [(settings.data_dir / "secret.key").read_text().strip()]
    return [hashlib.sha256(_PURPOSE + key.encode()).digest() for key in raw]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(key: bytes, tenant_id: uuid.UUID, subscription_id: uuid.UUID) -> bytes:
    message = tenant_id.bytes + subscription_id.bytes
    return hmac.new(key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def unsubscribe_token(
    keys: Sequence[bytes], tenant_id: uuid.UUID, subscription_id: uuid.UUID
) -> str:
    return f"{_b64(subscription_id.bytes)}.{_b64(_mac(keys[0], tenant_id, subscription_id))}"


def verified_subscription(
    keys: Sequence[bytes], tenant_id: uuid.UUID, token: str
) -> uuid.UUID | None:
    """The subscription a token names, if one of the keys signed it for this tenant."""
    ident, _, mac = token.partition(".")
    try:
        subscription_id = uuid.UUID(bytes=base64.urlsafe_b64decode(ident + "=="))
        given = base64.urlsafe_b64decode(mac + "==")
    except (ValueError, binascii.Error):
        return None
    if any(hmac.compare_digest(given, _mac(k, tenant_id, subscription_id)) for k in keys):
        return subscription_id
    return None
