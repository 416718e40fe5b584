"""Bringing the service's backing servers up for a command: configured or embedded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import asyncpg
import msgspec
import redis.asyncio as aioredis

from motcua.embedded import EmbeddedError, embedded_servers
from motcua.settings import Settings


class Unreachable(RuntimeError):
    """A backing server does not answer; the message names which, in one line."""


@contextlib.contextmanager
def backing_servers(settings: Settings, *, redis: bool) -> Iterator[Settings]:
    """Yield settings whose addresses answer, starting embedded servers where none is set."""
    want_pg = settings.database_url is None
    want_redis = redis and settings.redis_url is None
    try:
        with embedded_servers(settings.data_dir, postgres=want_pg, redis=want_redis) as urls:
            resolved = msgspec.structs.replace(
                settings,
                database_url=settings.database_url or urls[0],
                redis_url=settings.redis_url or urls[1],
            )
            asyncio.run(check_reachable(resolved, redis=redis))
            yield resolved
    except EmbeddedError as exc:
        raise Unreachable(str(exc)) from None


async def check_reachable(settings: Settings, *, redis: bool) -> None:
    # Where migrations run, the owner's login: the service's may not be let in yet.
    url = (settings.database_owner_url or settings.database_url or "").replace("+asyncpg", "")
    try:
        connection = await asyncpg.connect(url, timeout=5)
        await connection.close()
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise Unreachable(f"PostgreSQL is not reachable at {_where(url)}: {exc}") from None
    if redis and settings.redis_url:
        client = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=3)
        try:
            await client.ping()
        except (OSError, aioredis.RedisError) as exc:
            raise Unreachable(
                f"Redis is not reachable at {_where(settings.redis_url)}: {exc}"
            ) from None
        finally:
            await client.aclose()


def _where(url: str) -> str:
    """The address without credentials, for messages."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"
