"""The catalogue over HTTP: public search and reading; admins edit one item at a time."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from motcua.auth.guards import public, requires
from motcua.auth.models import Role
from motcua.catalog.schemas import (
    AgencyEdit,
    AgencyOut,
    AgencyPage,
    ProcedureEdit,
    ProcedureOut,
    ProcedurePage,
)
from motcua.catalog.service import MAX_PER_PAGE, CatalogService

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

    @get("/{code:str}", summary="One procedure: documents, fees, time, agencies", opt=public)
    async def one(
        self, code: FromPath[str], catalog: NamedDependency[CatalogService]
    ) -> ProcedureOut:
        return await catalog.procedure(code)

    @put("/{code:str}", summary="Create or change a procedure", guards=[admin_only])
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
        status_code=200,
    )
    async def retire(
        self, code: FromPath[str], catalog: NamedDependency[CatalogService]
    ) -> ProcedureOut:
        return await catalog.retire_procedure(code)


class Agencies(Controller):
    path = "/api/v1/agencies"
    tags = ["catalogue"]

    @get("/", summary="The agency tree, each agency after its parent", opt=public)
    async def tree(
        self,
        catalog: NamedDependency[CatalogService],
        level: Annotated[str | None, QueryParameter(max_length=16)] = None,
        parent: Annotated[str | None, QueryParameter(max_length=32)] = None,
        page: Page = 1,
        per_page: PerPage = MAX_PER_PAGE,
    ) -> AgencyPage:
        return await catalog.agencies(level=level, parent=parent, page=page, per_page=per_page)

    @put("/{code:str}", summary="Create or change an agency", guards=[admin_only])
    async def put(
        self,
        code: FromPath[str],
        data: JSONBody[AgencyEdit],
        catalog: NamedDependency[CatalogService],
    ) -> AgencyOut:
        return await catalog.put_agency(code, data)

    @delete("/{code:str}", summary="Retire an agency", guards=[admin_only], status_code=200)
    async def retire(
        self, code: FromPath[str], catalog: NamedDependency[CatalogService]
    ) -> AgencyOut:
        return await catalog.retire_agency(code)
