"""Deadlocks between short transactions that lock the same rows in different orders (a
broadcast's cancel and the deliveries of its notices): PostgreSQL aborts one of them, which
is safe to run again."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

DEADLOCK: Final = "40P01"
TRIES: Final = 3


def deadlocked(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == DEADLOCK


async def retry_deadlocks(work: Callable[[], Awaitable[T]], tries: int = TRIES) -> T:
    """Run `work` (a whole transaction, or a savepoint's) again when PostgreSQL chose it as
    a deadlock's victim; any other error, or the last try's, goes up."""
    for attempt in range(1, tries):
        try:
            return await work()
        except DBAPIError as exc:
            if not deadlocked(exc):
                raise
            await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 - jitter
    return await work()  # the last try: whatever it raises goes up
