"""API keys: created once and shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.auth.models import ApiKey, Role
from motcua.errors import Invalid, NotFound

KEY_PREFIX = "mc"
TENANT_ROLES = frozenset({Role.ADMIN, Role.OFFICER, Role.VIEWER, Role.INTEGRATION})
# Roles a key may carry with an agency: the agency narrows what it may act on.
AGENCY_ROLES = frozenset({Role.OFFICER, Role.VIEWER})

Kind = Literal["key", "staff", "operator"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, whatever the way in: an API key, a signed-in staff member of a
    province, or a signed-in platform operator."""

    kind: Kind
    # Stable across renames, for the audit log: "key:<id>", "staff:<uuid>", "operator:<uuid>".
    subject: str
    tenant_id: uuid.UUID | None  # None for the platform's operators
    role: Role
    display: str = ""  # the name staff see on the timeline
    # An officer's (or viewer's) agency: they act on it and the agencies below it.
    # None: the whole province.
    agency_code: str | None = None
    test: bool = False  # a test key: its dossiers' notices go to the simulator
    # The sign-in session a token belongs to (None for keys): sign-out revokes it.
    session_id: str | None = None

    @property
    def actor(self) -> str:
        """Who, as the timeline writes it."""
        return self.display or self.subject

    @property
    def key_id(self) -> str | None:
        return self.subject.removeprefix("key:") if self.kind == "key" else None


class RecentKeys:
    """Keys verified in the last few seconds, so that each request does not look its key up.
    A revocation in this process takes effect at once; in other processes within TTL."""

    TTL = 10.0
    LIMIT = 10_000

    def __init__(self) -> None:
        self._seen: dict[bytes, tuple[Principal, float]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._seen.get(_hash(token))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, token: str, principal: Principal) -> None:
        if len(self._seen) >= self.LIMIT:
            self._seen.clear()  # bounded; a full clear only costs a few lookups
        self._seen[_hash(token)] = (principal, time.monotonic() + self.TTL)

    def forget(self, key_id: str) -> None:
        self._seen = {k: v for k, v in self._seen.items() if v[0].subject != f"key:{key_id}"}


recently_seen = RecentKeys()


def _hash(secret: str) -> bytes:
    # The secret has 256 random bits: a plain hash is as strong as a slow one here.
    return hashlib.sha256(secret.encode()).digest()


def split_key(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class KeyService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        *,
        role: Role,
        tenant_id: uuid.UUID | None,
        name: str = "",
        test: bool = False,
        agency_code: str | None = None,
    ) -> tuple[ApiKey, str]:
        """Store a new key; the plaintext is returned once and never kept."""
        if (role is Role.OPERATOR) != (tenant_id is None):
            raise Invalid("An operator key belongs to the platform; every other key to a tenant.")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        if test and role is not Role.INTEGRATION:
            raise Invalid("Only integration keys can be test keys.")
        if agency_code is not None and role not in AGENCY_ROLES:
            raise Invalid("Only officer and viewer keys belong to an agency.")
        key = ApiKey(
            id=key_id,
            secret_hash=_hash(secret),
            tenant_id=tenant_id,
            role=role,
            name=name,
            test=test,
            agency_code=agency_code,
        )
        self.session.add(key)
        await self.session.flush()
        return key, f"{KEY_PREFIX}_{key_id}_{secret}"

    async def revoke(self, key_id: str, *, tenant_id: uuid.UUID | None = None) -> ApiKey:
        """Revoke a key; with tenant_id, only one of that province's keys."""
        key = await self.session.get(ApiKey, key_id)
        if key is None or (tenant_id is not None and key.tenant_id != tenant_id):
            raise NotFound(f"No key '{key_id}'.")
        if key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
        recently_seen.forget(key_id)
        return key

    async def list(self, tenant_id: uuid.UUID | None) -> list[ApiKey]:
        query = select(ApiKey).order_by(ApiKey.created_at)
        query = query.where(
            ApiKey.tenant_id == tenant_id if tenant_id else ApiKey.tenant_id.is_(None)
        )
        return list((await self.session.scalars(query)).all())

    async def authenticate(self, token: str) -> Principal | None:
        parts = split_key(token)
        if parts is None:
            return None
        key = await self.session.get(ApiKey, parts[0])
        if key is None or key.revoked_at is not None:
            return None
        if not hmac.compare_digest(key.secret_hash, _hash(parts[1])):
            return None
        return Principal(
            kind="key",
            subject=f"key:{key.id}",
            tenant_id=key.tenant_id,
            role=key.role,
            display=key.name or f"key {key.id}",
            agency_code=key.agency_code,
            test=key.test,
        )
