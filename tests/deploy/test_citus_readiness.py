"""The schema is ready for Citus: read from the migrated database's own catalogue.

Citus distributes each tenant table by ``tenant_id`` and keeps a province's rows together on
one node. That holds only if ``tenant_id`` leads every primary and unique key (uniqueness is
checked per shard), every foreign key between tenant tables carries it (a join never leaves
the node), and no reference table points into a tenant table. Forced row-level security is the
same boundary inside PostgreSQL, whether or not Citus is there.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from motcua.db.base import tenant_tables

# Tables that have tenant_id and still are the platform's, not a province's: under Citus they
# stay on the coordinator (or become reference tables, copied to every node). Each says why;
# a new table with tenant_id must be a tenant table (TenantOwned) or be added here with its
# reason (docs/scaling.md lists them too).
REFERENCE_TABLES = {
    "tenant_domains": "maps a request's Host to its province before any province is known",
    "api_keys": "operator keys have no province (tenant_id NULL); a key is found before its "
    "province is",
    "sign_in_sessions": "operators' sessions have no province; a session is found by its "
    "cookie before its province is",
    "platform_audit_events": "what operators did across provinces; tenant_id only names the "
    "province an action touched",
}
# Platform tables without tenant_id that tenant tables may point to.
PLATFORM_TABLES = {"tenants", "alembic_version"}


@dataclass
class Table:
    oid: int
    name: str
    tenant_attnum: int | None
    tenant_not_null: bool
    rls: bool
    forced_rls: bool


async def readiness_problems(
    conn: asyncpg.Connection, schema: str, declared: set[str], reference: set[str]
) -> list[str]:
    """Every way the schema's tenant tables would not distribute by tenant_id, in words."""
    rows = await conn.fetch(
        """SELECT c.oid, c.relname, a.attnum, coalesce(a.attnotnull, false) AS not_null,
                  c.relrowsecurity, c.relforcerowsecurity
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attribute a
             ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
           WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')""",
        schema,
    )
    tables = {r["relname"]: Table(*r.values()) for r in rows}
    by_oid = {t.oid: t for t in tables.values()}
    problems = [
        f"{name}: declared as a tenant table but not in the database"
        for name in sorted(declared - set(tables))
    ]
    with_tenant = {name for name, t in tables.items() if t.tenant_attnum is not None}
    tenant = (declared & set(tables)) | (with_tenant - reference)
    problems += [
        f"{name}: has tenant_id but is not a TenantOwned model; make it one, or list it as a "
        "reference table with its reason"
        for name in sorted(with_tenant - declared - reference)
    ]
    tenant_oids = [tables[name].oid for name in tenant]

    for name in sorted(tenant):
        t = tables[name]
        if t.tenant_attnum is None:
            problems.append(f"{name}: no tenant_id column")
            continue
        if not t.tenant_not_null:
            problems.append(f"{name}: tenant_id may be NULL")
        if not (t.rls and t.forced_rls):
            problems.append(f"{name}: row-level security is not enabled and forced")

    policies = await conn.fetch(
        """SELECT polrelid, pg_get_expr(polqual, polrelid) AS qual,
                  pg_get_expr(polwithcheck, polrelid) AS checks
           FROM pg_policy WHERE polrelid = ANY($1::oid[])""",
        tenant_oids,
    )
    guarded = {
        p["polrelid"] for p in policies if "tenant_id" in (p["qual"] or "") + (p["checks"] or "")
    }
    problems += [
        f"{by_oid[oid].name}: no row-level security policy on tenant_id"
        for oid in tenant_oids
        if oid not in guarded and by_oid[oid].tenant_attnum is not None
    ]

    # Unique indexes cover primary keys, unique constraints and bare unique indexes alike.
    indexes = await conn.fetch(
        """SELECT i.indrelid, ic.relname AS index, i.indkey::int2[] AS keys
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
           WHERE i.indisunique AND i.indrelid = ANY($1::oid[])""",
        tenant_oids,
    )
    for index in indexes:
        t = by_oid[index["indrelid"]]
        if t.tenant_attnum is not None and index["keys"][0] != t.tenant_attnum:
            problems.append(
                f"{t.name}: unique index {index['index']} does not start with tenant_id"
            )
    has_primary_key = {
        r["conrelid"]
        for r in await conn.fetch(
            "SELECT conrelid FROM pg_constraint WHERE contype = 'p' AND conrelid = ANY($1::oid[])",
            tenant_oids,
        )
    }
    problems += [
        f"{by_oid[oid].name}: no primary key" for oid in tenant_oids if oid not in has_primary_key
    ]

    constraints = await conn.fetch(
        """SELECT conname, contype, conrelid, conkey, confrelid, confkey FROM pg_constraint
           WHERE contype IN ('f', 'x')
             AND (conrelid = ANY($1::oid[]) OR confrelid = ANY($1::oid[]))""",
        tenant_oids,
    )
    tenant_set = set(tenant_oids)
    for c in constraints:
        source = by_oid.get(c["conrelid"])
        target = by_oid.get(c["confrelid"])
        name = f"{source.name if source else c['conrelid']}: {c['conname']}"
        if c["contype"] == "x":
            if source and source.tenant_attnum not in c["conkey"]:
                problems.append(f"{name}: exclusion constraint without tenant_id")
        elif c["conrelid"] not in tenant_set:
            problems.append(f"{name}: a reference table points into tenant table {target.name}")
        elif c["confrelid"] in tenant_set:
            pairs = list(zip(c["conkey"], c["confkey"], strict=True))
            if (source.tenant_attnum, target.tenant_attnum) not in pairs:
                problems.append(f"{name}: foreign key to {target.name} without tenant_id")
        elif target and target.name not in reference | PLATFORM_TABLES:
            problems.append(f"{name}: points to {target.name}, neither tenant nor reference table")
    return problems


@pytest.fixture
async def catalogue(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


async def test_every_tenant_table_of_the_migrated_schema_distributes_by_tenant_id(catalogue):
    declared = {table.name for table in tenant_tables()}
    problems = await readiness_problems(catalogue, "public", declared, set(REFERENCE_TABLES))
    assert problems == [], "\n".join(problems)


async def test_the_reference_tables_still_exist_and_have_tenant_id(catalogue):
    # A stale exception would let a future table of the same name through unchecked.
    rows = await catalogue.fetch(
        """SELECT table_name FROM information_schema.columns
           WHERE table_schema = 'public' AND column_name = 'tenant_id'"""
    )
    assert set(REFERENCE_TABLES) <= {r["table_name"] for r in rows}


async def test_the_check_finds_each_way_a_table_would_not_distribute(catalogue):
    schema = f"citus_probe_{secrets.token_hex(3)}"
    await catalogue.execute(f"""
        CREATE SCHEMA {schema};
        SET search_path = {schema};
        CREATE TABLE tenants (id uuid PRIMARY KEY);
        CREATE TABLE good (tenant_id uuid NOT NULL REFERENCES tenants, code text,
            PRIMARY KEY (tenant_id, code));
        ALTER TABLE good ENABLE ROW LEVEL SECURITY; ALTER TABLE good FORCE ROW LEVEL SECURITY;
        CREATE POLICY p ON good USING (tenant_id IS NOT NULL);
        CREATE TABLE key_last (tenant_id uuid NOT NULL, code text, PRIMARY KEY (code, tenant_id));
        CREATE TABLE bad_unique (tenant_id uuid NOT NULL, code text PRIMARY KEY);
        CREATE UNIQUE INDEX bad_unique_index ON good (code);
        CREATE TABLE bad_fk (tenant_id uuid NOT NULL, id int, code text,
            PRIMARY KEY (tenant_id, id), FOREIGN KEY (tenant_id, code) REFERENCES good);
        ALTER TABLE bad_fk ADD CONSTRAINT crossed FOREIGN KEY (code) REFERENCES bad_unique;
        CREATE TABLE undeclared (tenant_id uuid, id int, PRIMARY KEY (id));
        CREATE TABLE directory (host text PRIMARY KEY, tenant_id uuid, code text,
            good_tenant uuid, FOREIGN KEY (good_tenant, code) REFERENCES good);
    """)
    try:
        problems = await readiness_problems(
            catalogue,
            schema,
            {"good", "key_last", "bad_unique", "bad_fk", "missing"},
            {"directory"},
        )
    finally:
        await catalogue.execute(f"DROP SCHEMA {schema} CASCADE; RESET search_path")
    text = "\n".join(problems)
    for expected in (
        "missing: declared as a tenant table but not in the database",
        "undeclared: has tenant_id but is not a TenantOwned model",
        "undeclared: tenant_id may be NULL",
        "key_last: unique index key_last_pkey does not start with tenant_id",
        "key_last: row-level security is not enabled and forced",
        "key_last: no row-level security policy on tenant_id",
        "bad_unique: unique index bad_unique_pkey does not start with tenant_id",
        "good: unique index bad_unique_index does not start with tenant_id",
        "bad_fk: crossed: foreign key to bad_unique without tenant_id",
        "directory: directory_good_tenant_code_fkey: a reference table points into tenant "
        "table good",
    ):
        assert expected in text, text
    assert not [p for p in problems if p.startswith("good:") and "bad_unique_index" not in p]
    assert "bad_fk_tenant_id_code_fkey" not in text
