"""Tenant operations for platform operators: list, suspend, resume, export, remove."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.auth.providers import ProviderService, pack_table
from motcua.db import Base, Database, tenant_tables
from motcua.errors import Conflict, NotFound
from motcua.notices.channels import ChannelSettingsService
from motcua.tenancy.export import secret_references, write_archive
from motcua.tenancy.models import Tenant, TenantStatus
from motcua.tenancy.packs import DEFAULT_QUIET_HOURS
from motcua.tenancy.schemas import TenantOut


class TenantService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, session: AsyncSession, slug: str) -> Tenant:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise NotFound(f"No tenant '{slug}'.")
        return tenant

    async def list(self) -> list[TenantOut]:
        async with self.db.platform_session() as session:
            tenants = (await session.scalars(select(Tenant).order_by(Tenant.slug))).all()
        return [await self._out(t) for t in tenants]

    async def one(self, slug: str) -> TenantOut:
        async with self.db.platform_session() as session:
            tenant = await self.get(session, slug)
        return await self._out(tenant)

    async def _out(self, t: Tenant) -> TenantOut:
        return TenantOut(
            slug=t.slug,
            name=t.name,
            province_code=t.province_code,
            status=t.status.value,
            domains=sorted(d.domain for d in t.domains),
            timezone=t.timezone,
            created_at=t.created_at,
            exported_at=t.exported_at,
            counts=await self.counts(t),
        )

    async def counts(self, tenant: Tenant) -> dict[str, int]:
        """Rows per tenant table, counted inside the tenant's own scope."""
        counts: dict[str, int] = {}
        async with self.db.tenant_session(tenant.id) as session:
            for table in tenant_tables():
                counts[table.name] = (
                    await session.scalar(select(func.count()).select_from(table)) or 0
                )
        return counts

    async def set_status(self, slug: str, status: TenantStatus) -> TenantOut:
        async with self.db.platform_session() as session:
            tenant = await self.get(session, slug)
            tenant.status = status
            await session.commit()
        return await self._out(tenant)

    async def export(self, slug: str, out: IO[bytes]) -> dict[str, int]:
        """Write the tenant's archive to out, read in one snapshot; record the export."""
        async with self.db.platform_session() as session:
            tenant = await self.get(session, slug)
        async with self.db.tenant_session(tenant.id) as session:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            tables: dict[str, list[dict[str, Any]]] = {}
            for table in tenant_tables():
                columns = [c for c in table.columns if c.name != "search_vector"]
                rows = await session.execute(select(*columns).order_by(*table.primary_key))
                tables[table.name] = [dict(row._mapping) for row in rows]
            channels = await ChannelSettingsService(session).all()
            provider = await ProviderService(session).get()
        secrets: list[str] = []
        pack_settings = {}
        for c in channels:
            prefix = f"MOTCUA_{tenant.slug}_{c.channel}"
            pack_settings[c.channel], names = secret_references(c.settings, prefix)
            secrets += names
        meta: dict[str, Any] = {
            "slug": tenant.slug,
            "name": tenant.name,
            "province_code": tenant.province_code,
            "domains": sorted(d.domain for d in tenant.domains),
            "timezone": tenant.timezone,
            "locale": tenant.locale,
            "channels": {
                "order": [c.channel for c in channels if c.position is not None],
                "quiet_hours": channels[0].quiet_hours if channels else DEFAULT_QUIET_HOURS,
                "limits": {
                    c.channel: {
                        k: v
                        for k, v in (("per_second", c.per_second), ("per_day", c.per_day))
                        if v is not None
                    }
                    for c in channels
                    if c.per_second is not None or c.per_day is not None
                },
                **pack_settings,
            },
        }
        if provider is not None:
            oidc, names = secret_references(pack_table(provider), f"MOTCUA_{tenant.slug}_OIDC")
            meta["auth"] = {"oidc": oidc}
            secrets += names
        # Compressing is CPU and file work: keep it off the event loop.
        counts = await asyncio.to_thread(write_archive, out, tenant.slug, meta, tables, secrets)
        async with self.db.platform_session() as session:
            (await self.get(session, slug)).exported_at = datetime.now(UTC)
            await session.commit()
        return counts

    async def remove(self, slug: str, *, force: bool = False) -> dict[str, int]:
        """Delete every row of the tenant, and nothing else; only once exported."""
        async with self.db.platform_session() as session:
            tenant = await self.get(session, slug)
        if tenant.exported_at is None and not force:
            raise Conflict(f"Export '{slug}' before removing it, or remove it by force.")
        owned = set(tenant_tables())
        deleted: dict[str, int] = {}
        async with self.db.tenant_session(tenant.id) as session:
            # Children before parents, inside the tenant's own scope.
            for table in reversed(Base.metadata.sorted_tables):
                # An append-only table goes with the tenant row (ON DELETE CASCADE, run as
                # its owner): the application role may not delete from it.
                if table in owned and not table.info.get("append_only"):
                    result = await session.execute(delete(table))
                    deleted[table.name] = int(getattr(result, "rowcount", 0) or 0)
            # The tenant row last: its domains and keys go with it (ON DELETE CASCADE).
            await session.execute(delete(Tenant).where(Tenant.id == tenant.id))
            await session.commit()
        return deleted
