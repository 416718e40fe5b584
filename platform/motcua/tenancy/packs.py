"""Province packs: read a pack folder and onboard or update its province."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from sqlalchemy import select

from motcua.db import Database
from motcua.settings import Settings
from motcua.tenancy.models import Tenant, TenantDomain


def pack_dirs(path: str | Path) -> list[Path]:
    """A pack folder itself, or every pack folder inside a folder of packs."""
    root = Path(path)
    if (root / "tenant.toml").is_file():
        return [root]
    return sorted(p for p in root.iterdir() if (p / "tenant.toml").is_file())


async def apply_all(settings: Settings, path: str | Path) -> int:
    db = Database(settings.database_url or "", role=settings.database_role, pool_size=1)
    try:
        for pack in pack_dirs(path):
            meta = tomllib.loads((pack / "tenant.toml").read_text("utf-8"))
            async with db.platform_session() as session:
                tenant = await session.scalar(select(Tenant).where(Tenant.slug == meta["slug"]))
                if tenant is None:
                    tenant = Tenant(slug=meta["slug"])
                    session.add(tenant)
                tenant.name = meta["name"]
                tenant.province_code = str(meta["province_code"])
                tenant.timezone = meta.get("timezone", "Asia/Ho_Chi_Minh")
                tenant.locale = meta.get("locale", "vi")
                tenant.domains = [TenantDomain(domain=d) for d in meta.get("domains", [])]
                await session.commit()
            print(f"applied {pack.name}", file=sys.stderr)
    finally:
        await db.dispose()
    return 0
