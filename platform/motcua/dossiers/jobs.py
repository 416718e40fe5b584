"""The worker's dossier jobs: the sweep that apologises for promises missed.

When a dossier's promised date passes and the agency has not rescheduled it (which sends
its own apology with the new date), the citizen gets the `late` notice without a new date:
"chưa có, cơ quan giải quyết sẽ báo lại". Once per dossier per promise: the service marks
and picks the dossiers in one guarded UPDATE, so runs and workers never send it twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Final

from arq import cron
from sqlalchemy import select

from motcua.db import Database
from motcua.dossiers.service import DossierService, Links
from motcua.notices.limits import end_of_quiet_hours
from motcua.tenancy.directory import TenantDirectory
from motcua.tenancy.models import Tenant

log = logging.getLogger(__name__)

# Not urgent, and often found right after 17:00: never at night. A province's dossiers wait
# for the morning's first run.
QUIET_HOURS: Final = "21:00-07:00"
BATCH: Final = 200
MAX_BATCHES: Final = 50  # per province and run: the next run takes the rest


async def apologise_for_missed_promises(ctx: dict[str, Any]) -> int:
    """Every province: one `late` notice for each open dossier whose promise has passed."""
    db: Database = ctx["db"]
    settings = ctx["settings"]
    directory: TenantDirectory = ctx.setdefault("directory", TenantDirectory(db))
    now = datetime.now(UTC)
    async with db.platform_session() as session:
        slugs = (await session.scalars(select(Tenant.slug).order_by(Tenant.slug))).all()
    sent = 0
    for slug in slugs:
        tenant = await directory.by_slug(slug)
        if tenant is None or tenant.suspended:
            continue
        if end_of_quiet_hours(QUIET_HOURS, tenant.timezone, now) is not None:
            continue
        links = Links(
            base_url=settings.base_url,
            tenant=tenant,
            use_tenant_domain=settings.https,
        )
        for _ in range(MAX_BATCHES):
            async with db.tenant_session(tenant.id) as session:
                session.info["queue"] = ctx["redis"]  # the notices are queued after the commit
                count = await DossierService(session, tenant, links).apologise_for_missed_promises(
                    now, batch=BATCH
                )
                await session.commit()
                for after_commit in session.info.pop("after_commit", []):
                    await after_commit()
            sent += count
            if count < BATCH:
                break
    if sent:
        log.info("apologised for missed promises", extra={"dossiers": sent})
    return sent


CRONS: Final = [
    cron(
        apologise_for_missed_promises,
        minute=set(range(0, 60, 5)),
        second={20},  # away from the relay's and heartbeat's whole minutes
        run_at_startup=False,
        unique=True,
        timeout=300,
    )
]
