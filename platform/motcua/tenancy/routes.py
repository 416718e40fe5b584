"""Platform routes for operators: onboard, list, suspend, resume, export and remove tenants."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from motcua.audit.trail import audited, set_target
from motcua.auth.guards import operator_only
from motcua.tenancy.directory import TenantDirectory
from motcua.tenancy.models import TenantStatus
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import MAX_FILE_BYTES, Lines, Pack, PackInvalid, pack_problems
from motcua.tenancy.schemas import Onboarded, Removed, TenantList, TenantOut
from motcua.tenancy.service import TenantService


class PlatformTenants(Controller):
    path = "/api/v1/platform/tenants"
    tags = ["platform"]
    guards = [operator_only]

    @get("/", summary="List tenants with their status and row counts")
    async def list_tenants(self, tenants: NamedDependency[TenantService]) -> TenantList:
        items = await tenants.list()
        return TenantList(items=items, total=len(items))

    @post(
        "/",
        summary="Onboard or update a province from a pack (JSON)",
        description="The same pack as a folder, as one document: `tenant` (tenant.toml), "
        "`agencies`, `procedures` (lists for `agency_codes` and `documents`) and "
        "`calendar`. Idempotent: 200 with no changes when nothing differs, 201 when the "
        "province is new. Every problem is answered at once in a 422, nothing written.",
        request_max_body_size=MAX_FILE_BYTES,
        status_code=200,
        opt=audited("tenant.apply"),
    )
    async def onboard(
        self,
        data: JSONBody[Pack],
        tenants: NamedDependency[TenantService],
        directory: NamedDependency[TenantDirectory],
    ) -> Response[Onboarded]:
        problems = pack_problems(data, Lines())
        if problems:
            raise PackInvalid(problems)
        set_target(f"tenant:{data.tenant.slug}")
        applied = await apply_pack(tenants.db, data)
        directory.invalidate()
        body = Onboarded(
            slug=applied.slug,
            created=applied.created,
            changed=applied.changed,
            changes=applied.changes,
            summary=applied.summary(),
        )
        return Response(body, status_code=201 if applied.created else 200)

    @get("/{tenant_slug:str}", summary="One tenant with its status and row counts")
    async def one(
        self, tenant_slug: FromPath[str], tenants: NamedDependency[TenantService]
    ) -> TenantOut:
        return await tenants.one(tenant_slug)

    @post(
        "/{tenant_slug:str}/suspend",
        summary="Suspend: staff routes 403, tracking read-only",
        status_code=200,
        opt=audited("tenant.suspend", "tenant:{tenant_slug}"),
    )
    async def suspend(
        self,
        tenant_slug: FromPath[str],
        tenants: NamedDependency[TenantService],
        directory: NamedDependency[TenantDirectory],
    ) -> TenantOut:
        out = await tenants.set_status(tenant_slug, TenantStatus.SUSPENDED)
        directory.invalidate()
        return out

    @post(
        "/{tenant_slug:str}/resume",
        summary="Resume a suspended tenant",
        status_code=200,
        opt=audited("tenant.resume", "tenant:{tenant_slug}"),
    )
    async def resume(
        self,
        tenant_slug: FromPath[str],
        tenants: NamedDependency[TenantService],
        directory: NamedDependency[TenantDirectory],
    ) -> TenantOut:
        out = await tenants.set_status(tenant_slug, TenantStatus.ACTIVE)
        directory.invalidate()
        return out

    @get(
        "/{tenant_slug:str}/export",
        summary="Export every row of the tenant (tar.gz)",
        media_type="application/gzip",
        opt=audited("tenant.export", "tenant:{tenant_slug}"),
    )
    async def export(
        self, tenant_slug: FromPath[str], tenants: NamedDependency[TenantService]
    ) -> Stream:
        spool = tempfile.SpooledTemporaryFile(max_size=32 * 2**20)  # noqa: SIM115 - streamed
        await tenants.export(tenant_slug, spool)
        spool.seek(0)
        filename = f"motcua-{tenant_slug}.tar.gz"
        return Stream(
            _chunks(spool),
            media_type="application/gzip",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @delete(
        "/{tenant_slug:str}",
        summary="Remove every row of the tenant (after an export)",
        status_code=200,
        opt=audited("tenant.remove", "tenant:{tenant_slug}"),
    )
    async def remove(
        self,
        tenant_slug: FromPath[str],
        tenants: NamedDependency[TenantService],
        directory: NamedDependency[TenantDirectory],
        force: FromQuery[bool] = False,
    ) -> Removed:
        deleted = await tenants.remove(tenant_slug, force=force)
        directory.invalidate()
        return Removed(slug=tenant_slug, deleted=deleted)


def _chunks(spool: IO[bytes], size: int = 2**20) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(size):
            yield chunk
