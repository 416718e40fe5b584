"""Catalogue answers are cached per process: catalogues change rarely and are read a lot.

A cached answer lives at most MOTCUA_RESPONSE_CACHE_SECONDS. Any catalogue change
committed in this process moves the epoch, which is part of every cache key, so this
process never serves an answer older than its own last change; other processes catch up
when their cached answers expire.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_epoch = 0


def epoch() -> int:
    return _epoch


def catalog_changed(session: AsyncSession) -> None:
    """Move the epoch once this session's transaction commits (not before: a reader could
    otherwise cache the old rows under the new epoch)."""
    sync_session = session.sync_session
    if not sync_session.info.get("catalog_changed"):
        sync_session.info["catalog_changed"] = True
        event.listen(sync_session, "after_commit", _bump, once=True)


def _bump(session: Session) -> None:
    global _epoch
    session.info.pop("catalog_changed", None)
    _epoch += 1


K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Catalogue facts a hot path reads on every request (a procedure, an agency, the
    calendar), remembered for a few seconds in this process and forgotten at once when a
    catalogue change commits here. Other processes see a change within `seconds`."""

    def __init__(self, seconds: float, most: int = 10_000) -> None:
        self.seconds = seconds
        self.most = most
        self._items: dict[K, tuple[float, int, V]] = {}

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None or found[0] < time.monotonic() or found[1] != _epoch:
            return None
        return found[2]

    def put(self, key: K, value: V) -> V:
        if len(self._items) >= self.most:
            self._items.clear()  # rare: a bound, not an eviction policy
        self._items[key] = (time.monotonic() + self.seconds, _epoch, value)
        return value
