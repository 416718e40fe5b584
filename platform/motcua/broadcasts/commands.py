"""The ``motcua broadcasts`` commands: an operator sees a province's broadcasts and stops one
that must not go on (a wrong text going out at night, a province asking by phone)."""

from __future__ import annotations

import sys
import uuid

from motcua.audit.trail import cli_audit
from motcua.broadcasts.broadcasting import BroadcastService
from motcua.broadcasts.schemas import BroadcastOut
from motcua.db import Database
from motcua.errors import Invalid, Problem
from motcua.settings import Settings
from motcua.tenancy.service import TenantService


async def list_broadcasts(settings: Settings, slug: str, status: str | None) -> int:
    db = Database.for_settings(settings, pool_size=1)
    try:
        async with db.platform_session() as session:
            tenant = await TenantService(db).get(session, slug)
        async with db.tenant_session(tenant.id) as session:
            found = await BroadcastService(session, tenant.timezone).page(status, 1, 100)
    except Problem as exc:
        print(f"motcua: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    for item in found.items:
        print(_line(item))
    if found.total > len(found.items):
        print(f"… and {found.total - len(found.items)} older", file=sys.stderr)
    return 0


async def cancel_broadcast(settings: Settings, slug: str, broadcast_id: str) -> int:
    db = Database.for_settings(settings, pool_size=1)
    try:
        async with db.platform_session() as session:
            tenant = await TenantService(db).get(session, slug)
        ident = _uuid(broadcast_id)
        async with (
            cli_audit(db, "broadcast.cancel", f"broadcast:{ident}", tenant_id=tenant.id),
            db.tenant_session(tenant.id) as session,
        ):
            cancelled = await BroadcastService(session, tenant.timezone).cancel(ident)
            await session.commit()
    except Problem as exc:
        print(f"motcua: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(_line(cancelled))
    return 0


def _line(item: BroadcastOut) -> str:
    c = item.counts
    return (
        f"{item.id}  {item.status:<9} {item.send_at_local}  {item.topic}: "
        f"{c.written} written, {c.sent} sent, {c.failed} failed, {c.cancelled} cancelled"
    )


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(f"'{value[:64]}' is not a broadcast id.") from None
