"""Tenant isolation is enforced by PostgreSQL itself, whatever the query forgets."""

import asyncpg
import pytest
from sqlalchemy import text

from motcua.catalog.models import Agency


async def _agencies(db, province, *codes):
    async with db.tenant_session(province.id) as session:
        session.add_all(Agency(code=c, name=f"Cơ quan {c}", level="department") for c in codes)
        await session.commit()


async def test_a_raw_select_sees_only_the_current_tenants_rows(db, make_tenant):
    a, b = await make_tenant(), await make_tenant()
    await _agencies(db, a, "A1", "A2")
    await _agencies(db, b, "B1")

    async with db.tenant_session(a.id) as session:
        rows = (await session.execute(text("SELECT code FROM agencies"))).scalars().all()
    assert sorted(rows) == ["A1", "A2"]

    async with db.tenant_session(b.id) as session:
        rows = (await session.execute(text("SELECT code FROM agencies"))).scalars().all()
    assert rows == ["B1"]


async def test_with_no_tenant_set_no_tenant_row_is_visible(db, make_tenant):
    a = await make_tenant()
    await _agencies(db, a, "X1")
    async with db.platform_session() as session:
        count = (await session.execute(text("SELECT count(*) FROM agencies"))).scalar()
    assert count == 0


async def test_the_service_role_is_neither_owner_nor_superuser(db):
    async with db.platform_session() as session:
        row = (
            await session.execute(
                text(
                    "SELECT current_user, r.rolsuper, r.rolbypassrls, "
                    "(SELECT tableowner FROM pg_tables WHERE tablename = 'agencies') "
                    "FROM pg_roles r WHERE r.rolname = current_user"
                )
            )
        ).one()
    user, superuser, bypass, owner = row
    assert user == "motcua_app"
    assert not superuser and not bypass
    assert owner != user


async def test_a_row_for_another_tenant_cannot_be_written(db, make_tenant):
    a, b = await make_tenant(), await make_tenant()
    async with db.tenant_session(a.id) as session:
        with pytest.raises(Exception, match="row-level security"):
            await session.execute(
                text(
                    "INSERT INTO agencies (tenant_id, code, name, level, active) "
                    "VALUES (:t, 'Z', 'Z', 'department', true)"
                ),
                {"t": b.id},
            )
            await session.flush()


async def test_the_tenant_setting_does_not_outlive_its_transaction(settings, make_tenant, db):
    a = await make_tenant()
    await _agencies(db, a, "T1")
    url = settings.database_url
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET ROLE motcua_app")
        async with connection.transaction():
            await connection.execute("SELECT set_config('motcua.tenant_id', $1, true)", str(a.id))
            assert await connection.fetchval("SELECT count(*) FROM agencies") == 1
        # Same pooled connection, next transaction: the setting is gone ('' not NULL).
        assert await connection.fetchval("SELECT count(*) FROM agencies") == 0
    finally:
        await connection.close()


async def test_no_rollback_or_reset_falls_back_to_the_login_user(db):
    for _ in range(3):  # a pooled connection, used again after rollbacks
        async with db.platform_session() as session:
            await session.execute(text("RESET ROLE"))
            await session.execute(text("RESET ALL"))
            assert (await session.execute(text("SELECT current_user"))).scalar() == "motcua_app"
            await session.rollback()
