"""The ``motcua tenants`` commands."""

from __future__ import annotations

from motcua.db import Database
from motcua.settings import Settings
from motcua.tenancy.service import TenantService


async def list_tenants(settings: Settings) -> int:
    db = Database(settings.database_url or "", role=settings.database_role, pool_size=1)
    try:
        tenants = await TenantService(db).list()
    finally:
        await db.dispose()
    print(f"{'slug':<16} {'status':<10} {'code':<5} {'rows':>7}  name")
    for t in tenants:
        print(
            f"{t.slug:<16} {t.status:<10} {t.province_code:<5} {sum(t.counts.values()):>7}  "
            f"{t.name}"
        )
    return 0
