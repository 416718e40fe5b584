"""Liveness for a process without a port (the worker): it touches a file while its event loop
runs, and ``motcua worker --check`` says whether the file is fresh. Kubernetes runs the check
as an exec probe; a stuck loop stops touching the file and the pod is restarted."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

BEAT_SECONDS = 10.0


async def beat(path: Path, every: float = BEAT_SECONDS) -> None:
    """Touch ``path`` every ``every`` seconds until cancelled; remove it then."""
    # Touching a file on a local emptyDir takes microseconds: no thread needed.
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        while True:
            path.touch()  # noqa: ASYNC240
            await asyncio.sleep(every)
    finally:
        path.unlink(missing_ok=True)  # noqa: ASYNC240


def check(path: Path, max_age: float) -> int:
    """0 when ``path`` was touched within ``max_age`` seconds, else 1 with one line saying why."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        print(f"motcua: worker is not running: {path} does not exist", file=sys.stderr)
        return 1
    if age > max_age:
        print(f"motcua: worker is stuck: {path} is {age:.0f} s old", file=sys.stderr)
        return 1
    print(f"worker is alive ({age:.0f} s ago)")
    return 0
