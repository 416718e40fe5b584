"""Fair turns between provinces inside a lane.

arq serves a queue in order, so a province that queues 100,000 notices at once would put
every other province's notices behind them. A notice's first attempt therefore does not
queue a job of its own: its id waits in its province's line (a Redis list per lane and
province), the province joins the lane's ring if it is not in it, and the lane gets one
turn (a `deliver_turn` job that names no notice). A turn takes the next province of the
ring and the oldest ids of its line (up to a turn's size, delivered together), so a province
with one notice waits for one turn per province ahead of it in the ring, however long the
others' lines are.

Retries, held-back sends and the relay queue their notice's own job, as before. A turn
cut short by a stopping worker tries to put its notice back at the head of its line (arq
queues the turn again); whatever a stop or a crash drops from a line is still `created` in
the database, where the relay finds it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from arq.connections import ArqRedis
from arq.constants import job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms

# Ids are pushed a few hundred at a time: a Lua call takes a bounded number of arguments.
CHUNK = 500
# A turn serves up to this many of its province's notices together (one claim, one
# record). Dossier notices: small turns, so another province's receipt waits little behind
# the turns already running. Bulk sends: larger ones, which cost less a message.
TURN_SIZE = 20
BULK_TURN_SIZE = 50


def turn_size(queue_name: str) -> int:
    """The turn size of a lane's queue (jobs.lane_queue names the bulk lane's "…:bulk")."""
    return BULK_TURN_SIZE if queue_name.endswith(":bulk") else TURN_SIZE


# KEYS: the ring, the line, the lane's queue, then one arq job key per turn.
# ARGV: the province, the turns' score and lifetime (ms), the turns' job ids, their jobs
# (serialized by arq), then the notice ids. The turns are written as arq's enqueue_job
# writes a job (its key, then the queue's sorted set), but in the line's own round trip:
# intake waits on this after every commit. tests/notices/test_fairness.py reads them back
# through arq.
_JOIN = """
local turns = #KEYS - 3
local ids = 4 + 2 * turns
redis.call('RPUSH', KEYS[2], unpack(ARGV, ids))
if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('RPUSH', KEYS[1], ARGV[1]) end
for i = 1, turns do
    redis.call('SET', KEYS[3 + i], ARGV[3 + turns + i], 'PX', ARGV[3])
    redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3 + i])
end
return 1
"""

_GIVE_BACK = """
for i = #ARGV, 2, -1 do redis.call('LPUSH', KEYS[2], ARGV[i]) end
if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('RPUSH', KEYS[1], ARGV[1]) end
return 1
"""

_TAKE = """
for _ = 1, redis.call('LLEN', KEYS[1]) do
    local province = redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
    if not province then return false end
    local ids = redis.call('LPOP', ARGV[1] .. province, ARGV[2])
    if ids then return {province, unpack(ids)} end
    redis.call('LREM', KEYS[1], 1, province)  -- its line is empty: out of the ring
end
return false
"""


def _ring(queue_name: str) -> str:
    return f"{queue_name}:turns"


def _line(queue_name: str, province: str = "") -> str:
    return f"{queue_name}:line:{province}"


async def queue_in_turn(
    redis: ArqRedis, queue_name: str, tenant_id: str, slug: str, notice_ids: Sequence[str]
) -> None:
    """Put a province's new notices in its line of this lane's queue, with turns for them."""
    province = f"{tenant_id}/{slug}"
    join: Any = redis.register_script(_JOIN)
    for start in range(0, len(notice_ids), CHUNK):
        chunk = notice_ids[start : start + CHUNK]
        now = timestamp_ms()
        job_ids = [uuid.uuid4().hex for _ in range(0, len(chunk), turn_size(queue_name))]
        job = serialize_job(
            "deliver_turn", (queue_name,), {}, None, now, serializer=redis.job_serializer
        )
        await join(
            keys=[
                _ring(queue_name),
                _line(queue_name, province),
                queue_name,
                *(job_key_prefix + job_id for job_id in job_ids),
            ],
            args=[province, now, redis.expires_extra_ms, *job_ids, *[job] * len(job_ids), *chunk],
        )


async def take_turn(redis: ArqRedis, queue_name: str) -> tuple[str, str, list[str]] | None:
    """(tenant id, slug, notice ids) whose turn it is, or None when every line is empty."""
    take: Any = redis.register_script(_TAKE)
    taken = await take(keys=[_ring(queue_name)], args=[_line(queue_name), turn_size(queue_name)])
    if not taken:
        return None
    province, *notice_ids = (part.decode() for part in taken)
    tenant_id, slug = province.split("/", 1)
    return tenant_id, slug, notice_ids


async def waiting(redis: ArqRedis, queue_name: str, tenant_id: str, slug: str) -> int:
    """How many of a province's notices wait in its line of this lane (the outbox queues
    them under the tenant alone, a broadcast with its slug too)."""
    lengths: Any = [redis.llen(_line(queue_name, f"{tenant_id}/{s}")) for s in ("", slug)]
    return sum([int(await length) for length in lengths])


async def give_back(
    redis: ArqRedis, queue_name: str, tenant_id: str, slug: str, notice_ids: Sequence[str]
) -> None:
    """A turn that could not finish: its notices go back to the head of their line."""
    province = f"{tenant_id}/{slug}"
    script: Any = redis.register_script(_GIVE_BACK)
    await script(
        keys=[_ring(queue_name), _line(queue_name, province)], args=[province, *notice_ids]
    )
