"""Benchmarks' access to the real services: a fresh, migrated database of their own."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

SERVER = os.environ.get("MOTCUA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("MOTCUA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new migrated database on the local PostgreSQL, dropped afterwards."""
    from motcua.db.migrate import upgrade

    name = f"{prefix}_{secrets.token_hex(3)}"
    _psql(f'CREATE DATABASE "{name}"')
    try:
        url = f"{SERVER}/{name}"
        upgrade(url, "motcua_app")
        yield url
    finally:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{SERVER}/postgres", "-qc", sql], check=True, stdout=subprocess.DEVNULL
    )


def motcua_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    return (
        env
        | {
            "MOTCUA_DATABASE_URL": database_url,
            "MOTCUA_REDIS_URL": REDIS,
            "MOTCUA_LOG_LEVEL": "WARNING",
        }
        | extra
    )
