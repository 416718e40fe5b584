"""Wire types of the key routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec


class KeyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: Literal["admin", "officer", "viewer", "integration"]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    # Officer and viewer keys only: they act on this agency and the agencies below it.
    agency_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class KeyOut(msgspec.Struct, kw_only=True):
    id: str
    role: str
    name: str
    agency_code: str | None = None
    created_at: datetime
    revoked_at: datetime | None


class CreatedKey(KeyOut, kw_only=True):
    key: str  # the only time the secret is shown


class KeyList(msgspec.Struct, kw_only=True):
    items: list[KeyOut]
