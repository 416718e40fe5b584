"""Wire types of the key routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec


class KeyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: Literal["admin", "officer", "integration"]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class KeyOut(msgspec.Struct, kw_only=True):
    id: str
    role: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


class CreatedKey(KeyOut, kw_only=True):
    key: str  # the only time the secret is shown


class KeyList(msgspec.Struct, kw_only=True):
    items: list[KeyOut]
