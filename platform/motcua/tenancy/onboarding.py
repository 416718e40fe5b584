"""Onboarding: a checked pack becomes a province, in one transaction, idempotently.

Applying the same pack again changes nothing and says so; a changed pack changes exactly
what differs (retired procedures and agencies stay, marked inactive, for their dossiers).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from motcua.auth.providers import ProviderService
from motcua.calendar.service import CalendarService
from motcua.catalog.service import CatalogService
from motcua.db import Database
from motcua.notices.channels import ChannelSettingsService
from motcua.tenancy.models import Tenant, TenantDomain
from motcua.tenancy.packs import Pack, PackInvalid, PackProblem

Progress = Callable[[str, int], None]  # (what is being written, how many items)


@dataclass
class Applied:
    slug: str
    created: bool
    changes: list[str] = field(default_factory=list)  # one line per part that changed

    @property
    def changed(self) -> bool:
        return self.created or bool(self.changes)

    def summary(self) -> str:
        if self.created:
            return f"{self.slug}: onboarded ({'; '.join(self.changes)})"
        if not self.changes:
            return f"{self.slug}: no changes"
        return f"{self.slug}: {'; '.join(self.changes)}"


async def apply_pack(db: Database, pack: Pack, progress: Progress | None = None) -> Applied:
    report = progress or (lambda _stage, _count: None)
    meta = pack.tenant
    async with db.platform_session() as session:
        existing = await session.scalar(select(Tenant.id).where(Tenant.slug == meta.slug))
        others = select(TenantDomain.domain).where(TenantDomain.domain.in_(meta.domains))
        if existing:
            others = others.where(TenantDomain.tenant_id != existing)
        taken = (await session.scalars(others)).all()
    if taken:
        raise PackInvalid(
            [
                PackProblem(
                    "tenant.toml", 0, "domains", f"'{d}' already belongs to another province"
                )
                for d in taken
            ]
        )

    tenant_id = existing or uuid.uuid4()
    applied = Applied(slug=meta.slug, created=existing is None)
    async with db.tenant_session(tenant_id) as session:
        report("province", 1)
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            tenant = Tenant(id=tenant_id, slug=meta.slug, domains=[])
            session.add(tenant)
        changed = []
        for name, value in (
            ("name", meta.name),
            ("province_code", meta.province_code),
            ("timezone", meta.timezone),
            ("locale", meta.locale),
        ):
            if getattr(tenant, name, None) != value:
                setattr(tenant, name, value)
                changed.append(name)
        kept = [d for d in tenant.domains if d.domain in meta.domains]
        added = [TenantDomain(domain=d) for d in meta.domains if d not in {k.domain for k in kept}]
        if added or len(kept) != len(tenant.domains):
            tenant.domains = kept + added
            changed.append("domains")
        await session.flush()
        if changed and not applied.created:
            applied.changes.append(f"province: {', '.join(changed)} updated")

        catalog = CatalogService(session)
        report("agencies", len(pack.agencies))
        agencies = await catalog.sync_agencies(pack.agencies)
        report("procedures", len(pack.procedures))
        procedures = await catalog.sync_procedures(pack.procedures)
        for noun, change in (("agencies", agencies), ("procedures", procedures)):
            if change:
                applied.changes.append(change.summary(noun))
        report("calendar", len(pack.calendar.holidays) + len(pack.calendar.working_days))
        fresh, removed = await CalendarService(session).sync(pack.calendar)
        if fresh or removed:
            applied.changes.append(f"calendar: {fresh} days set, {removed} removed")
        report("channels", len(meta.channel_settings))
        channels = await ChannelSettingsService(session).sync(
            meta.channel_settings, meta.channel_order, meta.channel_limits, meta.quiet_hours
        )
        if channels:
            applied.changes.append(f"channels: {channels} changed")
        if meta.auth.oidc is not None and await ProviderService(session).sync(meta.auth.oidc):
            applied.changes.append("sign-in: identity provider set")
        await session.commit()
    return applied
