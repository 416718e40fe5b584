"""Two transactions locking the same rows in opposite orders, for real: PostgreSQL aborts
one, and retry_deadlocks runs it again (a broadcast's cancel against its deliveries)."""

import asyncio

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from motcua.db.deadlocks import deadlocked, retry_deadlocks
from motcua.notices.models import Notice


async def test_the_victim_of_a_deadlock_runs_again_and_both_commit(office, db):
    desk = await office(["console"], {"console": {}})
    await desk.intake()
    await desk.intake(phone="0912000111")
    async with db.tenant_session(desk.province.id) as session:
        first, second = (await session.scalars(select(Notice.id).order_by(Notice.id))).all()
    holding = {"a": asyncio.Event(), "b": asyncio.Event()}
    runs: list[str] = []

    def locking(name, mine, theirs, other):
        async def work():
            runs.append(name)
            async with db.tenant_session(desk.province.id) as session:
                await session.execute(
                    update(Notice).where(Notice.id == mine).values(last_error=name)
                )
                holding[name].set()
                await holding[other].wait()
                await session.execute(
                    update(Notice).where(Notice.id == theirs).values(last_error=name)
                )
                await session.commit()

        return work

    await asyncio.gather(
        retry_deadlocks(locking("a", first, second, "b")),
        retry_deadlocks(locking("b", second, first, "a")),
    )
    assert sorted(runs) in (["a", "a", "b"], ["a", "b", "b"])  # one ran twice
    async with db.tenant_session(desk.province.id) as session:
        errors = set((await session.scalars(select(Notice.last_error))).all())
    assert len(errors) == 1 and errors <= {"a", "b"}  # the second to commit wrote both rows


async def test_other_errors_are_not_retried(db):
    runs = 0

    async def broken():
        nonlocal runs
        runs += 1
        async with db.platform_session() as session:
            await session.execute(text("SELECT no_such_column FROM tenants"))

    with pytest.raises(DBAPIError) as raised:
        await retry_deadlocks(broken)
    assert runs == 1 and not deadlocked(raised.value)
