"""A province admin's own API keys: for officers' tools and the province's systems."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from motcua.audit.trail import audited, set_target
from motcua.auth.guards import requires
from motcua.auth.models import ApiKey, Role
from motcua.auth.schemas import CreatedKey, KeyIn, KeyList, KeyOut
from motcua.auth.service import KeyService
from motcua.catalog.service import CatalogService
from motcua.db import Database
from motcua.errors import Invalid
from motcua.tenancy.directory import TenantRef


async def provide_keys(db: NamedDependency[Database]) -> AsyncIterator[KeyService]:
    """A key service on a platform session, committed when the route succeeds."""
    async with db.platform_session() as session:
        yield KeyService(session)
        await session.commit()


def _out(key: ApiKey) -> KeyOut:
    return KeyOut(
        id=key.id,
        role=key.role.value,
        name=key.name,
        agency_code=key.agency_code,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


class TenantKeys(Controller):
    path = "/api/v1/keys"
    tags = ["keys"]
    guards = [requires(Role.ADMIN)]

    @get("/", summary="The province's API keys (never their secrets)")
    async def list_keys(
        self, tenant: NamedDependency[TenantRef], keys: NamedDependency[KeyService]
    ) -> KeyList:
        return KeyList(items=[_out(k) for k in await keys.list(tenant.id)])

    @post(
        "/",
        summary="Create a key; its secret is in this answer only",
        opt=audited("key.create", detail=("role", "name", "agency_code")),
    )
    async def create_key(
        self,
        data: JSONBody[KeyIn],
        tenant: NamedDependency[TenantRef],
        keys: NamedDependency[KeyService],
        catalog: NamedDependency[CatalogService],
    ) -> CreatedKey:
        if data.agency_code is not None and not await catalog.active_agency(data.agency_code):
            raise Invalid(f"The province has no active agency '{data.agency_code}'.")
        key, plaintext = await keys.create(
            role=Role(data.role), tenant_id=tenant.id, name=data.name, agency_code=data.agency_code
        )
        set_target(f"key:{key.id}")
        return CreatedKey(**msgspec.structs.asdict(_out(key)), key=plaintext)

    @delete(
        "/{key_id:str}",
        summary="Revoke a key",
        status_code=200,
        opt=audited("key.revoke", "key:{key_id}"),
    )
    async def revoke_key(
        self,
        key_id: FromPath[str],
        tenant: NamedDependency[TenantRef],
        keys: NamedDependency[KeyService],
    ) -> KeyOut:
        return _out(await keys.revoke(key_id, tenant_id=tenant.id))
