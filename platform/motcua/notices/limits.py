"""Limits on sending, shared by every worker through Redis: a province's rate and daily cap
per channel, a provider account's rate across the provinces sharing it, and quiet hours for
notices that can wait."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid
from zoneinfo import ZoneInfo

from redis.asyncio import Redis


async def waits_for_rate(
    redis: Redis, scope: str, per_second: float, now: dt.datetime, sends: int = 1
) -> list[float]:
    """For sends counted together under `scope` (a province's channel, or a provider
    account), in order: 0 for each that fits the rate, else the seconds it must wait."""
    window = int(now.timestamp())
    key = f"motcua:rate:{scope}:{window}"
    count = int(await redis.incrby(key, sends))
    if count == sends:  # the window's first
        await redis.expire(key, 5)
    limit = max(1, math.floor(per_second))
    # Spread the overflow over the next seconds instead of stampeding at the next one.
    return [
        0.0 if place <= limit else float(window + (place - 1) // limit) - now.timestamp()
        for place in range(count - sends + 1, count + 1)
    ]


def account_scope(channel: str, account: str) -> str:
    """A provider account's rate scope: a digest, since an account may be a credential."""
    return f"account:{channel}:{hashlib.sha256(account.encode()).hexdigest()[:24]}"


async def over_daily_cap(
    redis: Redis, tenant_id: uuid.UUID, channel: str, per_day: int, today: dt.date, sends: int = 1
) -> list[bool]:
    """For sends counted together, in order: whether each is over the day's cap."""
    key = f"motcua:day:{tenant_id}:{channel}:{today.isoformat()}"
    count = int(await redis.incrby(key, sends))
    if count == sends:
        await redis.expire(key, 2 * 86400)
    return [place > per_day for place in range(count - sends + 1, count + 1)]


def end_of_quiet_hours(quiet_hours: str, timezone: str, now: dt.datetime) -> dt.datetime | None:
    """When the quiet hours around `now` end, or None outside them (or with none set)."""
    if not quiet_hours:
        return None
    start_text, end_text = quiet_hours.split("-")
    start, end = dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)
    local = now.astimezone(ZoneInfo(timezone))
    clock = local.timetz().replace(tzinfo=None)
    # Across midnight, as "21:00-07:00", the hours are outside the day's (end, start).
    inside = start <= clock < end if start <= end else clock >= start or clock < end
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, ZoneInfo(timezone))
