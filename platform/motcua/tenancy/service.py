"""Tenant operations for platform operators: list, look up, suspend, resume."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.db import Database, tenant_tables
from motcua.errors import NotFound
from motcua.tenancy.models import Tenant, TenantStatus
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
        return [
            TenantOut(
                slug=t.slug,
                name=t.name,
                province_code=t.province_code,
                status=t.status.value,
                domains=sorted(d.domain for d in t.domains),
                timezone=t.timezone,
                created_at=t.created_at,
                counts=await self.counts(t),
            )
            for t in tenants
        ]

    async def counts(self, tenant: Tenant) -> dict[str, int]:
        """Rows per tenant table, counted inside the tenant's own scope."""
        counts: dict[str, int] = {}
        async with self.db.tenant_session(tenant.id) as session:
            for table in tenant_tables():
                counts[table.name] = (
                    await session.scalar(select(func.count()).select_from(table)) or 0
                )
        return counts

    async def set_status(self, slug: str, status: TenantStatus) -> Tenant:
        async with self.db.platform_session() as session:
            tenant = await self.get(session, slug)
            tenant.status = status
            await session.commit()
        return tenant
