"""The audit log is append-only for the service's own database role."""

import asyncio
import base64
import os
import subprocess
import sys

import asyncpg
import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from motcua.audit.models import AuditEvent, PlatformAuditEvent
from motcua.audit.service import Actor, record
from motcua.db import Database
from motcua.db.passwords import scram_verifier
from motcua.settings import SettingsError, load_settings

CLERK = Actor("staff:00000000-0000-0000-0000-000000000001", "Nguyễn Văn A", "X.AN")


async def test_the_service_role_adds_and_reads_audit_rows_in_its_province(db, make_tenant):
    province = await make_tenant()
    async with db.tenant_session(province.id) as session:
        record(session, action="catalogue.put", actor=CLERK, target="procedure:1.0", client="::1")
        await session.commit()
    async with db.tenant_session(province.id) as session:
        row = (await session.scalars(select(AuditEvent))).one()
    assert (row.tenant_id, row.action, row.agency_code) == (province.id, "catalogue.put", "X.AN")
    other = await make_tenant()
    async with db.tenant_session(other.id) as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("table", [AuditEvent, PlatformAuditEvent])
@pytest.mark.parametrize("change", ["update", "delete", "truncate"])
async def test_the_service_role_can_neither_change_nor_delete_an_audit_row(
    db, make_tenant, table, change
):
    province = await make_tenant()
    open_session = db.tenant_session(province.id) if table is AuditEvent else db.platform_session()
    async with open_session as session:
        record(session, action="key.create", actor=CLERK, target="key:abc", tenant_id=province.id)
        await session.commit()
        statement = {
            "update": update(table).values(display="someone else"),
            "delete": delete(table),
            "truncate": text(f"TRUNCATE {table.__tablename__}"),
        }[change]
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(statement)
        await session.rollback()
        assert await session.scalar(select(func.count()).select_from(table)) >= 1


async def test_with_its_own_login_the_service_cannot_step_out_of_its_role(settings, make_tenant):
    """Production's split: migrations log in as the owner (MOTCUA_DATABASE_OWNER_URL), the
    service as its role. `db upgrade` lets the role log in; its connections then cannot
    become the owner again to rewrite the audit log, whatever they run."""
    role = settings.database_role
    service_url = (
        make_url(settings.database_url)
        .set(drivername="postgresql", username=role, password="mật khẩu dịch vụ")
        .render_as_string(hide_password=False)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env |= {"MOTCUA_DATABASE_OWNER_URL": settings.database_url, "MOTCUA_DATABASE_URL": service_url}
    upgrade = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "motcua.cli", "db", "upgrade", env=env, stderr=subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(upgrade.communicate(), 120)
    assert upgrade.returncode == 0, stderr.decode()
    # The role logs in with the service URL's password: the server keeps its verifier.
    owner_connection = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
    try:
        stored = await owner_connection.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role
        )
    finally:
        await owner_connection.close()
    _, parameters, _ = stored.split("$")
    iterations, salt = parameters.split(":")
    assert scram_verifier("mật khẩu dịch vụ", base64.b64decode(salt), int(iterations)) == stored

    connection = await asyncpg.connect(service_url)
    try:
        assert await connection.fetchval("SELECT session_user") == role
        for step_out in ("RESET ROLE", "SET ROLE NONE", "RESET ALL"):
            await connection.execute(step_out)
            assert await connection.fetchval("SELECT current_user") == role
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute("DELETE FROM audit_events")
        owner = make_url(settings.database_url).username
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(f'SET ROLE "{owner}"')
    finally:
        await connection.close()

    # The service works as before on that login: a province's change and its audit row.
    service = Database(service_url, role=role, pool_size=1)
    try:
        province = await make_tenant()
        async with service.tenant_session(province.id) as session:
            record(session, action="catalogue.put", actor=CLERK, target="procedure:2.0")
            await session.commit()
            rows = await session.scalar(select(func.count()).select_from(AuditEvent))
        assert rows == 1
    finally:
        await service.dispose()


def test_an_owner_login_needs_the_service_to_log_in_as_its_role():
    owner = "postgresql://owner:pw@db/motcua"
    with pytest.raises(SettingsError, match="must log in as motcua_app"):
        load_settings({"MOTCUA_DATABASE_OWNER_URL": owner, "MOTCUA_DATABASE_URL": owner})
    settings = load_settings(
        {
            "MOTCUA_DATABASE_OWNER_URL": owner,
            "MOTCUA_DATABASE_URL": "postgresql://motcua_app:pw@db/motcua",
        }
    )
    assert settings.database_owner_url == owner
