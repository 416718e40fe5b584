"""The hot paths' statements, straight through asyncpg, in the session's own transaction.

Taking in a dossier runs a handful of small statements: the code's counter, the chat
identity and channel order of its notices, its row, its first event, its notices. Through
SQLAlchemy each costs two to four times the CPU of the statement itself (a unit-of-work
flush for a new row, compiling and wrapping for a query); through asyncpg, one call.
`driver` flushes what the session holds first, so these statements see and follow the
ORM's writes.

`insert_rows` takes dicts of column names; a column left out takes its model default
(Python-side) or else the table's server default. JSON columns are encoded here, as
SQLAlchemy would."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache, partial
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import Table, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import JSON

from motcua.db.base import Base, TenantOwned
from motcua.db.session import current_tenant

_DRIVER = "driver"  # session.info: (the transaction, its asyncpg connection)


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session's transaction (begun, tenant set), once
    what the session holds is flushed: a statement here sees the ORM's writes before it."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    transaction = session.sync_session.get_transaction()
    known = session.info.get(_DRIVER)
    if transaction is not None and known is not None and known[0] is transaction:
        found: asyncpg.Connection = known[1]
        return found
    connection = await session.connection()
    found = (await connection.get_raw_connection()).driver_connection
    session.info[_DRIVER] = (session.sync_session.get_transaction(), found)
    return found


async def insert_rows(
    session: AsyncSession, model: type[TenantOwned], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert these rows of a tenant-owned table (tenant_id: the session's) in one statement."""
    if not rows:
        return
    table = Base.metadata.tables[model.__tablename__]
    tenant = current_tenant(session)
    names = tuple(rows[0])
    defaults = _model_defaults(table, frozenset(names))
    columns = ("tenant_id", *names, *defaults)
    json = _json_columns(table)
    args: list[Any] = []
    for row in rows:
        values = [tenant, *(row[name] for name in names), *(make() for make in defaults.values())]
        args.extend(
            msgspec.json.encode(value).decode() if column in json and value is not None else value
            for column, value in zip(columns, values, strict=True)
        )
    connection = await driver(session)
    await connection.execute(_statement(table.name, columns, len(rows)), *args)


def values_of(row: TenantOwned) -> dict[str, Any]:
    """The column values set on a new model object, as insert_rows takes them."""
    state = inspect(row)
    return {a.key: state.dict[a.key] for a in state.mapper.column_attrs if a.key in state.dict}


@cache
def _statement(table: str, columns: tuple[str, ...], count: int) -> str:
    width = len(columns)
    values = ", ".join(
        "(" + ", ".join(f"${row * width + i + 1}" for i in range(width)) + ")"
        for row in range(count)
    )
    names = ", ".join(columns)
    return f"INSERT INTO {table} ({names}) VALUES {values}"  # noqa: S608 - the models' names


@cache
def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


@cache
def _model_defaults(table: Table, given: frozenset[str]) -> dict[str, Callable[[], Any]]:
    """The model's Python-side defaults of the columns not given: name -> a maker."""
    makers: dict[str, Callable[[], Any]] = {}
    for column in table.columns:
        default: Any = column.default
        if column.name in given or column.name == "tenant_id" or default is None:
            continue
        if default.is_callable:  # SQLAlchemy's wrapper takes the execution context
            makers[column.name] = partial(default.arg, None)
        elif default.is_scalar:
            makers[column.name] = partial(_same, default.arg)
    return makers


def _same(value: Any) -> Any:
    return value
