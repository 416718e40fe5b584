"""Rows written straight through asyncpg (db/rows.py) land as the ORM would write them."""

import uuid

from sqlalchemy import select

from motcua.db.rows import driver, insert_rows
from motcua.notices.models import Notice


async def test_inserted_rows_take_the_tenant_defaults_and_json_of_the_models(db, onboard):
    province = await onboard()
    other = await onboard()
    ids = [uuid.uuid4(), uuid.uuid4()]
    async with db.tenant_session(province.id) as session:
        await insert_rows(
            session,
            Notice,
            [
                {
                    "id": ids[0],
                    "kind": "received",
                    "plan": ["sms", "email"],
                    "channel": "sms",
                    "recipient": {"phone": "+84912345678"},
                    "values": {"code": "H01-240904-0001", "province": "Tỉnh Thử"},
                },
                {
                    "id": ids[1],
                    "kind": "reply",
                    "plan": ["zalo"],
                    "channel": "zalo",
                    "recipient": {"zalo_user_id": "z-1"},
                    "values": {},
                },
            ],
        )
        await session.commit()
    async with db.tenant_session(province.id) as session:
        rows = (await session.scalars(select(Notice).where(Notice.id.in_(ids)))).all()
        first = next(n for n in rows if n.id == ids[0])
        assert len(rows) == 2 and {n.tenant_id for n in rows} == {province.id}
        assert first.values == {"code": "H01-240904-0001", "province": "Tỉnh Thử"}
        assert first.recipient == {"phone": "+84912345678"}
        assert first.plan == ["sms", "email"]
        # Python-side model defaults, then the table's own.
        assert (first.lane, first.status, first.attempts, first.last_error) == (
            "dossier",
            "created",
            0,
            "",
        )
        assert first.test is False and first.forget is False
        assert first.next_attempt_at is not None and first.created_at is not None
    async with db.tenant_session(other.id) as session:  # row-level security still holds
        assert (await session.scalars(select(Notice).where(Notice.id.in_(ids)))).all() == []


async def test_the_driver_sees_what_the_session_holds(db, onboard):
    province = await onboard()
    notice_id = uuid.uuid4()
    async with db.tenant_session(province.id) as session:
        session.add(
            Notice(
                id=notice_id,
                kind="chat",
                plan=["zalo"],
                channel="zalo",
                recipient={"zalo_user_id": "z-2"},
                values={},
            )
        )
        connection = await driver(session)  # flushes first
        assert await connection.fetchval("SELECT kind FROM notices WHERE id = $1", notice_id) == (
            "chat"
        )
        await session.rollback()
