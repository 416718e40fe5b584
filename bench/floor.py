"""The floor for bench/dossiers.py: the least a tracking request can cost on this stack.

    MOTCUA_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/DB \
        .venv/bin/python bench/floor.py --port 8001

A bare Litestar app with one route shaped like public tracking,
GET /t/{slug}/api/v1/track/{code}, that does one primary-key query on `dossiers` through
an asyncpg pool and answers its row as JSON (404 if there is none). No key check, no
rate limit, no session, no timeline: one round trip to PostgreSQL per request. It
connects as the URL's user (the benchmark's database owner, which row-level security does
not filter) and maps slugs to tenant ids once, at start.

Served like `motcua serve`: uvicorn, one process, the same Config options (uvloop and
httptools when installed, proxy headers trusted from 127.0.0.1, no access log).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import uvicorn
from litestar import Litestar, get
from litestar.exceptions import NotFoundException

QUERY = "SELECT code, status, due_at FROM dossiers WHERE tenant_id = $1 AND code = $2"
# As the platform's pool: MOTCUA_DATABASE_POOL_SIZE (10) plus as many overflow.
POOL_MIN, POOL_MAX = 10, 20

state: dict[str, Any] = {}


@contextlib.asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(
        os.environ["MOTCUA_DATABASE_URL"], min_size=POOL_MIN, max_size=POOL_MAX
    )
    state["pool"] = pool
    state["tenants"] = {
        row["slug"]: row["id"] for row in await pool.fetch("SELECT slug, id FROM tenants")
    }
    try:
        yield
    finally:
        await pool.close()


@get("/t/{slug:str}/api/v1/track/{code:str}")
async def track(slug: str, code: str) -> dict[str, Any]:
    tenant: uuid.UUID | None = state["tenants"].get(slug)
    row = await state["pool"].fetchrow(QUERY, tenant, code) if tenant else None
    if row is None:
        raise NotFoundException(f"No dossier '{code}'.")
    due_at: datetime = row["due_at"]
    return {"code": row["code"], "status": row["status"], "due_at": due_at}


app = Litestar(route_handlers=[track], lifespan=[lifespan], debug=False, logging_config=None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=args.port,
            log_config=None,
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=20,
            server_header=False,
        )
    ).run()


if __name__ == "__main__":
    main()
