"""The tenant directory: who a slug or a host names, answered from memory.

Every request asks it, so it keeps the (small) tenant table in memory and reloads it
after a few seconds; changes made in this process invalidate it at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from motcua.db import Database
from motcua.tenancy.models import Tenant, TenantStatus


@dataclass(frozen=True, slots=True)
class TenantRef:
    id: uuid.UUID
    slug: str
    name: str
    status: TenantStatus
    timezone: str
    locale: str
    domains: tuple[str, ...]

    @property
    def suspended(self) -> bool:
        return self.status is TenantStatus.SUSPENDED


class TenantDirectory:
    def __init__(self, db: Database, ttl: float = 5.0) -> None:
        self._db = db
        self._ttl = ttl
        self._loaded_at = -float("inf")
        self._by_slug: dict[str, TenantRef] = {}
        self._by_domain: dict[str, TenantRef] = {}
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._loaded_at = -float("inf")

    async def by_slug(self, slug: str) -> TenantRef | None:
        await self._fresh()
        return self._by_slug.get(slug)

    async def by_host(self, host: str) -> TenantRef | None:
        await self._fresh()
        return self._by_domain.get(host)

    async def _fresh(self) -> None:
        age = time.monotonic() - self._loaded_at
        if age < self._ttl:
            return
        if self._lock.locked() and age != float("inf"):
            # Another request is reloading: meanwhile the list of a few seconds ago will do
            # (every request waited for each reload before). Not after invalidate().
            return
        async with self._lock:
            if time.monotonic() - self._loaded_at < self._ttl:
                return
            async with self._db.platform_session() as session:
                tenants = (await session.scalars(select(Tenant))).all()
            refs = [
                TenantRef(
                    id=t.id,
                    slug=t.slug,
                    name=t.name,
                    status=t.status,
                    timezone=t.timezone,
                    locale=t.locale,
                    domains=tuple(d.domain for d in t.domains),
                )
                for t in tenants
            ]
            self._by_slug = {ref.slug: ref for ref in refs}
            self._by_domain = {domain: ref for ref in refs for domain in ref.domains}
            self._loaded_at = time.monotonic()
