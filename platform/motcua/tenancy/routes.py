"""Platform routes for operators: the tenants."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from motcua.auth.guards import operator_only
from motcua.tenancy.schemas import TenantList
from motcua.tenancy.service import TenantService


class PlatformTenants(Controller):
    path = "/api/v1/platform/tenants"
    tags = ["platform"]
    guards = [operator_only]

    @get("/", summary="List tenants with their status and row counts")
    async def list_tenants(self, tenants: NamedDependency[TenantService]) -> TenantList:
        items = await tenants.list()
        return TenantList(items=items, total=len(items))
