"""The catalogue over HTTP: public search and reading; admins edit one item at a time."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, put
from litestar.config.response_cache import default_cache_key_builder
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.trail import audited
from motcua.auth.guards import public, requires
from motcua.auth.models import Role
from motcua.catalog.cache import epoch
from motcua.catalog.schemas import (
    AgencyEdit,
    AgencyOut,
    AgencyPage,
    ProcedureEdit,
    ProcedureOut,
    ProcedurePage,
)
from motcua.catalog.service import MAX_PER_PAGE, CatalogService


def provide_catalog(session: NamedDependency[AsyncSession]) -> CatalogService:
    return CatalogService(session)


def catalog_cache_key(request: Request[Any, Any, Any]) -> str:
    return f"catalog:{epoch()}:{default_cache_key_builder(request)}"


Page = Annotated[int, QueryParameter(ge=1, le=10_000, description="1-based page")]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE)]
admin_only = requires(Role.ADMIN)


class Procedures(Controller):
    path = "/api/v1/procedures"
    tags = ["catalogue"]

    @get(
        "/",
        summary="Search the catalogue",
        opt=public,
        cache=True,
        cache_key_builder=catalog_cache_key,
        description=(
            "`q` ignores diacritics and case: 'dang ky ket hon' finds 'Đăng ký kết hôn' first. "
            "Whole-phrase and name matches rank above matches in other fields."
        ),
    )
    async def search(
        self,
        catalog: NamedDependency[CatalogService],
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        field: Annotated[
            str | None,
            QueryParameter(max_length=200, description="lĩnh vực, e.g. Hộ tịch"),
        ] = None,
        level: Annotated[str | None, QueryParameter(max_length=16)] = None,
        agency: Annotated[str | None, QueryParameter(max_length=32)] = None,
        page: Page = 1,
        per_page: PerPage = 20,
    ) -> ProcedurePage:
        return await catalog.search(
            q, field=field, level=level, agency=agency, page=page, per_page=per_page
        )

    @get(
        "/{code:str}",
        summary="One procedure: documents, fees, time, agencies",
        opt=public,
        cache=True,
        cache_key_builder=catalog_cache_key,
    )
    async def one(
        self, code: FromPath[str], catalog: NamedDependency[CatalogService]
    ) -> ProcedureOut:
        return await catalog.procedure(code)

    @put(
        "/{code:str}",
        summary="Create or change a procedure",
        guards=[admin_only],
        opt=audited("catalogue.put", "procedure:{code}"),
    )
    async def put(
        self,
        code: FromPath[str],
        data: JSONBody[ProcedureEdit],
        catalog: NamedDependency[CatalogService],
    ) -> ProcedureOut:
        return await catalog.put_procedure(code, data)

    @delete(
        "/{code:str}",
        summary="Retire a procedure (kept for its dossiers)",
        guards=[admin_only],
        opt=audited("catalogue.retire", "procedure:{code}"),
        status_code=200,
    )
    async def retire(
        self, code: FromPath[str], catalog: NamedDependency[CatalogService]
    ) -> ProcedureOut:
        return await catalog.retire_procedure(code)


class Agencies(Controller):
    path = "/api/v1/agencies"
    tags = ["catalogue"]

    @get(
        "/",
        summary="The agency tree, each agency after its parent",
        opt=public,
        cache=True,
        cache_key_builder=catalog_cache_key,
    )
    async def tree(
        self,
        catalog: NamedDependency[CatalogService],
        level: Annotated[str | None, QueryParameter(max_length=16)] = None,
        parent: Annotated[str | None, QueryParameter(max_length=32)] = None,
        page: Page = 1,
        per_page: PerPage = MAX_PER_PAGE,
    ) -> AgencyPage:
        return await catalog.agencies(level=level, parent=parent, page=page, per_page=per_page)

    @put(
        "/{code:str}",
        summary="Create or change an agency",
        guards=[admin_only],
        opt=audited("catalogue.put", "agency:{code}"),
    )
    async def put(
        self,
        code: FromPath[str],
        data: JSONBody[AgencyEdit],
        catalog: NamedDependency[CatalogService],
    ) -> AgencyOut:
        return await catalog.put_agency(code, data)

    @delete(
        "/{code:str}",
        summary="Retire an agency",
        guards=[admin_only],
        status_code=200,
        opt=audited("catalogue.retire", "agency:{code}"),
    )
    async def retire(
        self, code: FromPath[str], catalog: NamedDependency[CatalogService]
    ) -> AgencyOut:
        return await catalog.retire_agency(code)
