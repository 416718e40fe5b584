"""The audit log is append-only for the service's own database role."""

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from motcua.audit.models import AuditEvent, PlatformAuditEvent
from motcua.audit.service import Actor, record

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
