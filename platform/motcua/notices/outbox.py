"""The outbox: a change a citizen should hear about becomes notice rows in the change's own
transaction. Only ids travel through Redis, after the commit; the relay re-sends whatever
the queue lost."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.db.rows import driver, insert_rows
from motcua.notices.channel import Address, discover
from motcua.notices.models import Notice
from motcua.notices.turns import queue_in_turn

log = logging.getLogger(__name__)

# The province's own system gets every notice, besides the citizen's plan.
PROVINCE_CHANNELS = frozenset({"webhook"})
AfterCommit = Callable[[], Awaitable[None]]
_PLAN_ORDER = "SELECT channel, position FROM channel_settings ORDER BY position, channel"


async def channel_plan(session: AsyncSession, to: Address) -> tuple[list[str], list[str]]:
    """(the citizen's plan: the province's order filtered by what reaches them,
    the province's own channels)."""
    connection = await driver(session)  # asked for every notice: the lighter path
    rows = await connection.fetch(_PLAN_ORDER)
    plugins = discover()
    plan = [
        name
        for name, position in rows
        if position is not None
        and name not in PROVINCE_CHANNELS
        and name in plugins
        and plugins[name]().reaches(to)
    ]
    own = [name for name, _ in rows if name in PROVINCE_CHANNELS and name in plugins]
    return plan, own


def new_notice(
    *,
    kind: str,
    lane: str,
    plan: list[str],
    recipient: dict[str, Any],
    values: dict[str, str],
    test: bool,
    dossier_code: str | None = None,
    forget: bool = False,
) -> dict[str, Any]:
    """A new notice's fields, waiting for its first attempt on the plan's first channel
    (a row of write_notices' insert, or of a broadcast's bulk insert)."""
    return {
        "id": uuid.uuid4(),
        "dossier_code": dossier_code,
        "kind": kind,
        "lane": lane,
        "status": "created",
        "plan": plan,
        "channel": plan[0],
        "recipient": {k: v for k, v in recipient.items() if v},
        "values": values,
        "test": test,
        "forget": forget,
    }


async def write_notices(
    session: AsyncSession,
    *,
    kind: str,
    to: Address,
    values: dict[str, str],
    dossier_code: str | None,
    test: bool,
    lane: str = "dossier",
    # Worked out once for many alike recipients (broadcasts): the citizen's plan, own channels.
    plans: tuple[list[str], list[str]] | None = None,
    channels: list[str] | None = None,  # only these: a chat reply goes back where it came from
    forget: bool = False,  # cleared once gone (Notice.forget)
) -> list[Notice]:
    plan, own = plans if plans is not None else await channel_plan(session, to)
    if channels is not None:
        plan, own = [n for n in plan if n in channels], [n for n in own if n in channels]
    recipient = msgspec.structs.asdict(to)
    rows = [
        new_notice(
            kind=kind,
            lane=lane,
            plan=channels,
            recipient=recipient,
            values=values,
            test=test,
            dossier_code=dossier_code,
            forget=forget,
        )
        for channels in ([plan] if plan else []) + [[name] for name in own]
    ]
    await insert_rows(session, Notice, rows)
    notices = [Notice(**row) for row in rows]
    if not plan:
        log.info("no channel reaches the citizen", extra={"kind": kind})
    enqueue_after_commit(session, notices)
    return notices


def enqueue_after_commit(session: AsyncSession, notices: list[Notice]) -> None:
    """Queue these notices in their province's turn once the transaction commits, if the
    session carries a queue (notices/turns.py)."""
    queue = session.info.get("queue")
    if queue is None or not notices:
        return
    tenant = str(session.info["tenant_id"])
    by_lane: dict[str, list[str]] = {}
    for notice in notices:
        by_lane.setdefault(notice.lane, []).append(str(notice.id))

    async def enqueue() -> None:
        from motcua.notices.jobs import lane_queue

        try:
            for lane, ids in by_lane.items():
                name = lane_queue(queue.default_queue_name, lane)
                await queue_in_turn(queue, name, tenant, "", ids)
        except Exception:  # Redis down: the relay will find them
            log.warning("notices left to the relay", exc_info=True)

    session.info.setdefault("after_commit", []).append(enqueue)
