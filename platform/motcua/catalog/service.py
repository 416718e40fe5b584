"""The catalogue's service: search, read, and keep agencies and procedures in step."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import Select, case, delete, exists, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnClause

from motcua.catalog.cache import catalog_changed
from motcua.catalog.folding import fold, words
from motcua.catalog.models import Agency, Procedure, ProcedureAgency
from motcua.catalog.rules import (
    HOURS_PER_DAY,
    agency_problems,
    procedure_problems,
    processing_hours,
    processing_text,
)
from motcua.catalog.schemas import (
    AgencyEdit,
    AgencyIn,
    AgencyOut,
    AgencyPage,
    AgencyRef,
    ProcedureEdit,
    ProcedureIn,
    ProcedureOut,
    ProcedurePage,
    ProcessingTime,
)
from motcua.db import current_tenant
from motcua.errors import Invalid, NotFound

MAX_PER_PAGE = 100
SEARCH_COLUMNS = frozenset({"name_folded", "field_folded", "other_folded"})
_SIMPLE: ColumnClause[Any] = literal_column("'simple'::regconfig")


@dataclass(frozen=True)
class ProcedureFacts:
    """What intake checks a dossier's procedure against."""

    name: str
    active: bool
    working_hours: int
    agencies: list[AgencyRef]  # the agencies that take it in, in the procedure's order


@dataclass(frozen=True)
class IntakeCatalogue:
    """The whole province's catalogue as intake reads it, loaded in two queries."""

    procedures: dict[str, ProcedureFacts]
    active_agencies: frozenset[str]


@dataclass
class Changes:
    """What a sync changed, by code."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.retired)

    def summary(self, noun: str) -> str:
        parts = [
            f"{len(codes)} {verb}"
            for verb, codes in (
                ("added", self.added),
                ("updated", self.updated),
                ("retired", self.retired),
            )
            if codes
        ]
        return f"{noun}: {', '.join(parts) if parts else 'unchanged'}"


def procedure_columns(p: ProcedureIn) -> dict[str, Any]:
    """The stored form of a procedure, with its folded search texts."""
    return {
        "name": p.name.strip(),
        "field": p.field.strip(),
        "level": p.level,
        "processing_hours": processing_hours(p.processing_days),
        "fee": p.fee.strip(),
        "documents": [d.strip() for d in p.documents],
        "result": p.result.strip(),
        "online_level": p.online_level,
        "legal_basis": p.legal_basis.strip(),
        "active": True,
        "name_folded": f"{fold(p.name)} {fold(p.code)}",
        "field_folded": fold(p.field),
        "other_folded": fold(" ".join([p.result, *p.documents, p.legal_basis])),
    }


class CatalogService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- reading -------------------------------------------------------------------------

    async def search(
        self,
        q: str | None = None,
        *,
        field: str | None = None,
        level: str | None = None,
        agency: str | None = None,
        page: int = 1,
        per_page: int = 20,
    ) -> ProcedurePage:
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        query = _procedure_rows().add_columns(func.count().over().label("total"))
        query = query.where(Procedure.active)
        terms = words(q or "")
        if terms:
            # Folded words hold only [a-z0-9]: safe to join into a tsquery.
            tsquery = func.to_tsquery(_SIMPLE, " & ".join(f"{w}:*" for w in terms))
            phrase = " ".join(terms)
            query = query.where(Procedure.search_vector.bool_op("@@")(tsquery)).order_by(
                case(
                    (Procedure.name_folded == phrase, 0),
                    (func.starts_with(Procedure.name_folded, phrase), 1),
                    (func.strpos(Procedure.name_folded, phrase) > 0, 2),
                    else_=3,
                ),
                func.ts_rank(Procedure.search_vector, tsquery).desc(),
            )
        if field:
            query = query.where(Procedure.field_folded == fold(field))
        if level:
            query = query.where(Procedure.level == level)
        if agency:
            query = query.where(
                exists().where(
                    ProcedureAgency.tenant_id == Procedure.tenant_id,
                    ProcedureAgency.procedure_code == Procedure.code,
                    ProcedureAgency.agency_code == agency,
                )
            )
        query = query.order_by(Procedure.name, Procedure.code)
        page_query = query.limit(per_page).offset((max(page, 1) - 1) * per_page)
        rows = (await self.session.execute(page_query)).all()
        if rows:
            total = rows[0].total
        else:  # beyond the last page: count without the window
            counted = query.order_by(None).with_only_columns(func.count())
            total = int(await self.session.scalar(counted) or 0)
        return ProcedurePage(
            items=[_out(row) for row in rows], total=total, page=max(page, 1), per_page=per_page
        )

    async def procedure(self, code: str) -> ProcedureOut:
        row = (await self.session.execute(_procedure_rows().where(Procedure.code == code))).first()
        if row is None:
            raise NotFound(f"No procedure '{code}' in this province's catalogue.")
        return _out(row)

    async def intake_catalogue(self) -> IntakeCatalogue:
        rows = await self.session.execute(
            select(
                Procedure.code,
                Procedure.name,
                Procedure.active,
                Procedure.processing_hours,
                Agency.code.label("agency_code"),
                Agency.name.label("agency_name"),
            )
            .outerjoin(
                ProcedureAgency,
                (ProcedureAgency.tenant_id == Procedure.tenant_id)
                & (ProcedureAgency.procedure_code == Procedure.code),
            )
            .outerjoin(
                Agency,
                (Agency.tenant_id == ProcedureAgency.tenant_id)
                & (Agency.code == ProcedureAgency.agency_code),
            )
            .order_by(Procedure.code, ProcedureAgency.position)
        )
        procedures: dict[str, ProcedureFacts] = {}
        for row in rows:
            facts = procedures.get(row.code)
            if facts is None:
                facts = procedures[row.code] = ProcedureFacts(
                    row.name, row.active, row.processing_hours, []
                )
            if row.agency_code is not None:
                facts.agencies.append(AgencyRef(code=row.agency_code, name=row.agency_name))
        active = await self.session.scalars(select(Agency.code).where(Agency.active))
        return IntakeCatalogue(procedures, frozenset(active))

    async def agency_names(self, codes: Iterable[str]) -> dict[str, str]:
        """Names of these agencies (active or not), by code."""
        rows = await self.session.execute(
            select(Agency.code, Agency.name).where(Agency.code.in_(set(codes)))
        )
        return {code: name for code, name in rows}

    async def agency_parents(self) -> dict[str, str | None]:
        """The agency tree as each agency's parent, retired agencies included (they may
        still hold dossiers)."""
        rows = await self.session.execute(select(Agency.code, Agency.parent_code))
        return {code: parent for code, parent in rows}

    async def active_agency(self, code: str) -> bool:
        row = await self.session.get(Agency, (current_tenant(self.session), code))
        return row is not None and row.active

    async def agencies(
        self,
        *,
        level: str | None = None,
        parent: str | None = None,
        page: int = 1,
        per_page: int = 100,
    ) -> AgencyPage:
        """Active agencies in tree order (each after its parent), paged."""
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        rows = (
            await self.session.scalars(select(Agency).where(Agency.active).order_by(Agency.code))
        ).all()
        ordered = [
            AgencyOut(
                code=a.code,
                name=a.name,
                level=a.level,
                parent_code=a.parent_code,
                depth=depth,
                active=a.active,
            )
            for a, depth in _tree_order(rows)
            if (level is None or a.level == level) and (parent is None or a.parent_code == parent)
        ]
        start = (max(page, 1) - 1) * per_page
        return AgencyPage(
            items=ordered[start : start + per_page],
            total=len(ordered),
            page=max(page, 1),
            per_page=per_page,
        )

    # -- keeping in step with a pack ------------------------------------------------------

    async def sync_agencies(self, wanted: Sequence[AgencyIn]) -> Changes:
        """Make the agencies those of the pack; the missing ones retire, never vanish."""
        tenant = current_tenant(self.session)
        existing = {a.code: a for a in await self.session.scalars(select(Agency))}
        changes = Changes()
        new_rows = []
        for agency in _parents_first(wanted):
            values = {
                "name": agency.name.strip(),
                "level": agency.level,
                "parent_code": agency.parent_code or None,
                "active": True,
            }
            row = existing.get(agency.code)
            if row is None:
                new_rows.append({"tenant_id": tenant, "code": agency.code, **values})
                changes.added.append(agency.code)
            elif _assign(row, values):
                changes.updated.append(agency.code)
        if new_rows:
            await self.session.execute(insert(Agency), new_rows)
        catalog_changed(self.session)
        wanted_codes = {a.code for a in wanted}
        for code, row in existing.items():
            if code not in wanted_codes and row.active:
                row.active = False
                changes.retired.append(code)
        await self.session.flush()
        return changes

    async def sync_procedures(self, wanted: Sequence[ProcedureIn]) -> Changes:
        """Make the procedures those of the pack; the missing ones retire, never vanish."""
        tenant = current_tenant(self.session)
        existing = {p.code: p for p in await self.session.scalars(select(Procedure))}
        links: dict[str, list[str]] = {}
        for procedure_code, agency_code in await self.session.execute(
            select(ProcedureAgency.procedure_code, ProcedureAgency.agency_code).order_by(
                ProcedureAgency.procedure_code, ProcedureAgency.position
            )
        ):
            links.setdefault(procedure_code, []).append(agency_code)
        changes = Changes()
        new_rows, relinked = [], []
        for procedure in wanted:
            values = procedure_columns(procedure)
            row = existing.get(procedure.code)
            if row is None:
                new_rows.append({"tenant_id": tenant, "code": procedure.code, **values})
                changes.added.append(procedure.code)
                relinked.append(procedure)
                continue
            changed = _assign(row, values)
            if links.get(procedure.code, []) != procedure.agency_codes:
                relinked.append(procedure)
                changed = True
            if changed:
                changes.updated.append(procedure.code)
        if new_rows:
            await self.session.execute(insert(Procedure), new_rows)
        catalog_changed(self.session)
        await self._link(relinked)
        wanted_codes = {p.code for p in wanted}
        for code, row in existing.items():
            if code not in wanted_codes and row.active:
                row.active = False
                changes.retired.append(code)
        await self.session.flush()
        return changes

    async def _link(self, procedures: Iterable[ProcedureIn]) -> None:
        procedures = list(procedures)
        if not procedures:
            return
        tenant = current_tenant(self.session)
        await self.session.execute(
            delete(ProcedureAgency).where(
                ProcedureAgency.procedure_code.in_([p.code for p in procedures])
            )
        )
        await self.session.execute(
            insert(ProcedureAgency),
            [
                {
                    "tenant_id": tenant,
                    "procedure_code": p.code,
                    "agency_code": code,
                    "position": position,
                }
                for p in procedures
                for position, code in enumerate(p.agency_codes)
            ],
        )

    # -- an admin's edits, one at a time ---------------------------------------------------

    async def put_agency(self, code: str, edit: AgencyEdit) -> AgencyOut:
        agency = AgencyIn(
            code=code, name=edit.name, level=edit.level, parent_code=edit.parent_code or None
        )
        problems = agency_problems(agency)
        if agency.parent_code and not problems:
            problems += await self._parent_problems(code, agency.parent_code)
        if problems:
            raise Invalid("The agency is not valid.", errors=_errors(problems))
        catalog_changed(self.session)
        row = await self.session.get(Agency, (current_tenant(self.session), code))
        values = {
            "name": agency.name.strip(),
            "level": agency.level,
            "parent_code": agency.parent_code,
            "active": True,
        }
        if row is None:
            row = Agency(code=code, **values)
            self.session.add(row)
        else:
            _assign(row, values)
        await self.session.flush()
        return await self._agency_out(code)

    async def _parent_problems(self, code: str, parent_code: str) -> list[tuple[str, str]]:
        rows = await self.session.execute(
            select(Agency.code, Agency.parent_code).where(Agency.active)
        )
        parents: dict[str, str | None] = {code: parent for code, parent in rows}
        if parent_code not in parents:
            return [("parent_code", f"no active agency '{parent_code}'")]
        seen = {code}
        cursor: str | None = parent_code
        while cursor is not None:
            if cursor in seen:
                return [("parent_code", "would make the agency its own ancestor")]
            seen.add(cursor)
            cursor = parents.get(cursor)
        return []

    async def retire_agency(self, code: str) -> AgencyOut:
        row = await self.session.get(Agency, (current_tenant(self.session), code))
        if row is None:
            raise NotFound(f"No agency '{code}'.")
        children = await self.session.scalar(
            select(func.count()).where(Agency.parent_code == code, Agency.active)
        )
        if children:
            raise Invalid(f"Agency '{code}' still has {children} active agencies under it.")
        row.active = False
        catalog_changed(self.session)
        await self.session.flush()
        return await self._agency_out(code)

    async def _agency_out(self, code: str) -> AgencyOut:
        rows = (await self.session.scalars(select(Agency))).all()
        for agency, depth in _tree_order(rows):
            if agency.code == code:
                return AgencyOut(
                    code=agency.code,
                    name=agency.name,
                    level=agency.level,
                    parent_code=agency.parent_code,
                    depth=depth,
                    active=agency.active,
                )
        raise NotFound(f"No agency '{code}'.")

    async def put_procedure(self, code: str, edit: ProcedureEdit) -> ProcedureOut:
        procedure = ProcedureIn(code=code, **{f: getattr(edit, f) for f in edit.__struct_fields__})
        problems = procedure_problems(procedure)
        if not problems:
            active = set(
                (await self.session.scalars(select(Agency.code).where(Agency.active))).all()
            )
            problems += [
                ("agency_codes", f"no active agency '{c}'")
                for c in procedure.agency_codes
                if c not in active
            ]
        if problems:
            raise Invalid("The procedure is not valid.", errors=_errors(problems))
        values = procedure_columns(procedure)
        catalog_changed(self.session)
        row = await self.session.get(Procedure, (current_tenant(self.session), code))
        if row is None:
            self.session.add(Procedure(code=code, **values))
            await self.session.flush()
        else:
            _assign(row, values)
        await self._link([procedure])
        await self.session.flush()
        return await self.procedure(code)

    async def retire_procedure(self, code: str) -> ProcedureOut:
        row = await self.session.get(Procedure, (current_tenant(self.session), code))
        if row is None:
            raise NotFound(f"No procedure '{code}' in this province's catalogue.")
        row.active = False
        catalog_changed(self.session)
        await self.session.flush()
        return await self.procedure(code)


@cache  # built once: a statement is immutable, and building it costs more than running it
def _procedure_rows() -> Select[*tuple[Any, ...]]:
    """What a procedure's answer needs, with its agencies in order, in one query."""
    agencies = (
        select(
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(
                        func.json_build_object("code", Agency.code, "name", Agency.name),
                        ProcedureAgency.position,
                    )
                ),
                literal_column("'[]'::json"),
            )
        )
        .select_from(ProcedureAgency)
        .join(
            Agency,
            (Agency.tenant_id == ProcedureAgency.tenant_id)
            & (Agency.code == ProcedureAgency.agency_code),
        )
        .where(
            ProcedureAgency.tenant_id == Procedure.tenant_id,
            ProcedureAgency.procedure_code == Procedure.code,
        )
        .scalar_subquery()
    )
    return select(
        Procedure.code,
        Procedure.name,
        Procedure.field,
        Procedure.level,
        Procedure.processing_hours,
        Procedure.fee,
        Procedure.documents,
        Procedure.result,
        Procedure.online_level,
        Procedure.legal_basis,
        Procedure.active,
        agencies.label("agencies"),
    )


def _out(row: Any) -> ProcedureOut:
    return ProcedureOut(
        code=row.code,
        name=row.name,
        field=row.field,
        level=row.level,
        agencies=msgspec.convert(row.agencies, list[AgencyRef]),
        processing_time=ProcessingTime(
            working_days=row.processing_hours / HOURS_PER_DAY,
            working_hours=row.processing_hours,
            text=processing_text(row.processing_hours),
        ),
        fee=row.fee,
        documents=list(row.documents),
        result=row.result,
        online_level=row.online_level,
        legal_basis=row.legal_basis,
        active=row.active,
    )


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the values that differ; say whether any did. Search columns follow the others
    (they are derived from them), so they are written without being loaded."""
    changed = False
    for name, value in values.items():
        if name not in SEARCH_COLUMNS and getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        for name in SEARCH_COLUMNS.intersection(values):
            setattr(row, name, values[name])
    return changed


def _errors(problems: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"field": f, "message": m} for f, m in problems]


def _parents_first(agencies: Sequence[AgencyIn]) -> list[AgencyIn]:
    by_code = {a.code: a for a in agencies}
    placed: dict[str, AgencyIn] = {}

    def place(agency: AgencyIn) -> None:
        if agency.code in placed:
            return
        parent = by_code.get(agency.parent_code or "")
        if parent is not None and parent.code not in placed:
            place(parent)
        placed[agency.code] = agency

    for agency in agencies:
        place(agency)
    return list(placed.values())


def _tree_order(agencies: Sequence[Agency]) -> list[tuple[Agency, int]]:
    """Pre-order: each agency after its parent, siblings by code; orphans at the top."""
    codes = {a.code for a in agencies}
    children: dict[str | None, list[Agency]] = {}
    for agency in agencies:
        parent = agency.parent_code if agency.parent_code in codes else None
        children.setdefault(parent, []).append(agency)
    ordered: list[tuple[Agency, int]] = []
    stack = [(a, 0) for a in reversed(children.get(None, []))]
    while stack:
        agency, depth = stack.pop()
        ordered.append((agency, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(agency.code, [])))
    return ordered
