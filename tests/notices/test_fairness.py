"""Provinces take turns inside a lane: one province's flood does not hold another's notice."""

import asyncio
import secrets
import uuid

from arq.jobs import Job, JobStatus
from sqlalchemy import func, select

from motcua.notices.jobs import lane_queue
from motcua.notices.models import Notice
from motcua.notices.turns import (
    BULK_TURN_SIZE,
    TURN_SIZE,
    give_back,
    queue_in_turn,
    take_turn,
)
from motcua.queue import connect


async def test_turns_go_round_the_provinces_whatever_the_length_of_their_lines(settings):
    queue = await connect(settings.redis_url, settings.queue_name)
    name = f"motcua:test:{secrets.token_hex(4)}"
    a = [f"a{n}" for n in range(2 * TURN_SIZE + 5)]
    try:
        await queue_in_turn(queue, name, "a", "tinh-a", a)
        await queue_in_turn(queue, name, "b", "tinh-b", ["b0", "b1"])
        await queue_in_turn(queue, name, "c", "tinh-c", ["c0"])
        turns = []
        while (taken := await take_turn(queue, name)) is not None:
            turns.append((taken[0], taken[2]))
        assert turns == [
            ("a", a[:TURN_SIZE]),
            ("b", ["b0", "b1"]),
            ("c", ["c0"]),
            ("a", a[TURN_SIZE : 2 * TURN_SIZE]),
            ("a", a[2 * TURN_SIZE :]),
        ]
        assert await queue.zcard(name) == 5  # a turn queued for each TURN_SIZE notices
        # Written in the line's own script, each turn is a job as arq reads one.
        for job_id in await queue.zrange(name, 0, -1):
            info = await Job(job_id.decode(), queue, _queue_name=name).info()
            assert info is not None and (info.function, info.args) == ("deliver_turn", (name,))
            assert await Job(job_id.decode(), queue, _queue_name=name).status() == JobStatus.queued
        await queue_in_turn(queue, name, "b", "tinh-b", ["b2"])  # back in the ring
        assert await take_turn(queue, name) == ("b", "tinh-b", ["b2"])
        await give_back(queue, name, "b", "tinh-b", ["b3", "b4"])  # a stopped turn's
        assert await take_turn(queue, name) == ("b", "tinh-b", ["b3", "b4"])
    finally:
        await queue.delete(name, f"{name}:turns")
        await queue.aclose()


async def test_bulk_sends_take_larger_turns(settings):
    queue = await connect(settings.redis_url, settings.queue_name)
    name = lane_queue(f"motcua:test:{secrets.token_hex(4)}", "bulk")
    ids = [f"n{n}" for n in range(BULK_TURN_SIZE + 5)]
    try:
        await queue_in_turn(queue, name, "a", "tinh-a", ids)
        assert await queue.zcard(name) == 2
        assert await take_turn(queue, name) == ("a", "tinh-a", ids[:BULK_TURN_SIZE])
        assert await take_turn(queue, name) == ("a", "tinh-a", ids[BULK_TURN_SIZE:])
    finally:
        await queue.delete(name, f"{name}:turns")
        await queue.aclose()


async def _flood(db, tenant_id, how_many):
    notices = [
        Notice(
            id=uuid.uuid4(),
            kind="chat",
            lane="dossier",
            status="created",
            plan=["console"],
            channel="console",
            # A citizen each, as in a real flood (one citizen's notices go one after
            # another); the simulator sends and delivers any such phone.
            recipient={"phone": f"+8491{n:07d}"},
            values={"province": "Tỉnh thử", "reply": "Tin nhắn thử"},
            test=True,
        )
        for n in range(how_many)
    ]
    async with db.tenant_session(tenant_id) as session:
        session.add_all(notices)
        await session.commit()
    return [str(n.id) for n in notices]


async def test_one_province_flood_does_not_delay_another_province_notice(
    settings, db, onboard, worker
):
    busy, quiet = await onboard(), await onboard()
    queue = await connect(settings.redis_url, settings.queue_name)
    lane = lane_queue(settings.queue_name, "dossier")
    try:
        flood = await _flood(db, busy.id, 2000)
        [single] = await _flood(db, quiet.id, 1)
        await queue_in_turn(queue, lane, str(busy.id), busy.slug, flood)

        async def sent(tenant_id):
            async with db.tenant_session(tenant_id) as session:
                return await session.scalar(
                    select(func.count()).where(Notice.status.in_(("sent", "delivered")))
                )

        before = await sent(busy.id)
        await queue_in_turn(queue, lane, str(quiet.id), quiet.slug, [single])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while await sent(quiet.id) == 0:
            assert loop.time() < deadline, "the quiet province's notice never went out"
            await asyncio.sleep(0.02)
        # Its turn came next in the ring: what went out meanwhile is what the busy
        # province's turns already running held (TURN_SIZE each), not its whole line.
        assert before < 500, "the flood was over before the quiet province came"
        assert await sent(busy.id) - before <= len(flood) // 2
        while await sent(busy.id) < len(flood):  # and the flood goes on to its end
            assert loop.time() < deadline + 30, "the flood stopped"
            await asyncio.sleep(0.1)
    finally:
        await queue.aclose()
