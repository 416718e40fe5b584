"""The ``motcua keys`` commands."""

from __future__ import annotations

import sys
import uuid

from motcua.audit.trail import cli_audit
from motcua.auth.models import Role
from motcua.auth.service import TENANT_ROLES, KeyService
from motcua.catalog.service import CatalogService
from motcua.db import Database
from motcua.errors import NotFound, Problem
from motcua.settings import Settings
from motcua.tenancy.service import TenantService


async def create_key(
    settings: Settings,
    *,
    tenant: str | None,
    platform: bool,
    role: str | None,
    name: str,
    test: bool = False,
    agency: str | None = None,
) -> int:
    chosen = Role(role) if role else (Role.OPERATOR if platform else None)
    if chosen is None:
        print("motcua: --role is required for a tenant key", file=sys.stderr)
        return 2
    if platform != (chosen is Role.OPERATOR) or (tenant and chosen not in TENANT_ROLES):
        print(
            "motcua: --platform keys have the role 'operator'; tenant keys one of "
            "admin, officer, viewer, integration",
            file=sys.stderr,
        )
        return 2
    db = _database(settings)
    detail = {"role": chosen.value, "name": name, "agency_code": agency, "test": test}
    try:
        # Its row goes where the HTTP twin's goes: the province's log, or the platform's.
        async with (
            cli_audit(db, "key.create", detail={k: v for k, v in detail.items() if v}) as row,
            db.platform_session() as session,
        ):
            tenant_id = (await TenantService(db).get(session, tenant)).id if tenant else None
            if agency and tenant_id:
                await _check_agency(db, tenant_id, agency)
            key, plaintext = await KeyService(session).create(
                role=chosen, tenant_id=tenant_id, name=name, test=test, agency_code=agency
            )
            row.tenant_id, row.target = tenant_id, f"key:{key.id}"
            await session.commit()
    except Problem as exc:
        print(f"motcua: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    owner = f"tenant {tenant}" if tenant else "the platform"
    print(
        f"Created {chosen.value} key {key.id} for {owner}. It is shown once; keep it secret:",
        file=sys.stderr,
    )
    print(plaintext)
    return 0


async def revoke_key(settings: Settings, key_id: str) -> int:
    db = _database(settings)
    try:
        async with (
            cli_audit(db, "key.revoke", f"key:{key_id}") as row,
            db.platform_session() as session,
        ):
            row.tenant_id = (await KeyService(session).revoke(key_id)).tenant_id
            await session.commit()
    except Problem as exc:
        print(f"motcua: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"Revoked key {key_id}.")
    return 0


async def list_keys(settings: Settings, *, tenant: str | None) -> int:
    db = _database(settings)
    try:
        async with db.platform_session() as session:
            tenant_id = (await TenantService(db).get(session, tenant)).id if tenant else None
            keys = await KeyService(session).list(tenant_id)
    except Problem as exc:
        print(f"motcua: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    for key in keys:
        state = f"revoked {key.revoked_at:%d/%m/%Y}" if key.revoked_at else "active"
        scope = f"agency {key.agency_code}" if key.agency_code else ""
        print(f"{key.id}  {key.role.value:<12} {state:<20} {scope:<20} {key.name}".rstrip())
    return 0


async def _check_agency(db: Database, tenant_id: uuid.UUID, code: str) -> None:
    async with db.tenant_session(tenant_id) as session:
        if not await CatalogService(session).active_agency(code):
            raise NotFound(f"The province has no active agency '{code}'.")


def _database(settings: Settings) -> Database:
    return Database.for_settings(settings, pool_size=1)
