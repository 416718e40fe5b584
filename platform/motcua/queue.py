"""The queue: arq on Redis. Only ids travel through it; the database holds the truth."""

from __future__ import annotations

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 0  # start-up reports an absent Redis at once; redis-py reconnects
    return settings


async def connect(url: str, queue_name: str) -> ArqRedis:
    return await create_pool(redis_settings(url), default_queue_name=queue_name)
