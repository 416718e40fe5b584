"""API keys: created once and shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.auth.models import ApiKey, Role
from motcua.errors import Invalid, NotFound

KEY_PREFIX = "mc"
TENANT_ROLES = frozenset({Role.ADMIN, Role.OFFICER, Role.INTEGRATION})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, its province (None for an operator) and its role."""

    key_id: str
    tenant_id: uuid.UUID | None
    role: Role
    name: str = ""
    test: bool = False

    @property
    def actor(self) -> str:
        """Who, as the timeline and the audit write it."""
        return self.name or f"key {self.key_id}"


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
        self._seen = {k: v for k, v in self._seen.items() if v[0].key_id != key_id}


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
        self, *, role: Role, tenant_id: uuid.UUID | None, name: str = "", test: bool = False
    ) -> tuple[ApiKey, str]:
        """Store a new key; the plaintext is returned once and never kept."""
        if (role is Role.OPERATOR) != (tenant_id is None):
            raise Invalid("An operator key belongs to the platform; every other key to a tenant.")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        if test and role is not Role.INTEGRATION:
            raise Invalid("Only integration keys can be test keys.")
        key = ApiKey(
            id=key_id,
            secret_hash=_hash(secret),
            tenant_id=tenant_id,
            role=role,
            name=name,
            test=test,
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
            key_id=key.id, tenant_id=key.tenant_id, role=key.role, name=key.name, test=key.test
        )
