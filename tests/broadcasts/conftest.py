import asyncio
import contextlib
import uuid

import pytest
from sqlalchemy.dialects.postgresql import insert

from motcua.broadcasts.models import Subscription
from motcua.broadcasts.service import SubscriptionService
from motcua.worker import build_worker
from tests.audit.test_cli_audit import motcua  # noqa: F401 - a fixture
from tests.notices.conftest import office, quick_backoff  # noqa: F401 - shared fixtures

# Bulk sends wait out quiet hours; the tests run at any hour.
NO_QUIET = {"quiet_hours": ""}


@pytest.fixture
async def workers(settings):
    """Both lanes' real arq workers, as `motcua worker` runs them; crons left to the tests."""
    running = [
        build_worker(settings, handle_signals=False, lane=lane) for lane in ("dossier", "bulk")
    ]
    for worker in running:
        worker.cron_jobs = []
    tasks = [asyncio.create_task(worker.async_run()) for worker in running]
    yield running
    for worker, task in zip(running, tasks, strict=True):
        # Jobs still in hand (held-back bulk notices) are cancelled with the worker.
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()
        task.cancel()


@pytest.fixture
def subscribers(db):
    """Subscribes many phones at once, as the chat would one by one."""

    async def make(province, count, topic="tin-tuc", area="", start=0):
        async with db.tenant_session(province.id) as session:
            await SubscriptionService(session).topics()  # the defaults exist
            await SubscriptionService(session).areas()
            rows = [
                {
                    "tenant_id": province.id,
                    "id": uuid.uuid4(),
                    "address_key": f"phone:+8490{n:07d}",
                    "recipient": {"phone": f"+8490{n:07d}"},
                    "topic_slug": topic,
                    "area_slug": area,
                    "source": "chat",
                }
                for n in range(start, start + count)
            ]
            for chunk in range(0, len(rows), 2000):
                await session.execute(insert(Subscription).values(rows[chunk : chunk + 2000]))
            await session.commit()
        return [r["recipient"]["phone"] for r in rows]

    return make


async def wait_for(check, timeout=30.0, every=0.2):
    """Wait until check() passes, asking every so often: counting thousands of notices
    fifty times a second would slow the very worker being waited for."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(every)
