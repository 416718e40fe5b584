import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import msgspec
import pytest

from motcua.auth.models import Role
from motcua.notices import delivery, jobs
from motcua.notices.channel import discover
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import read_pack
from motcua.worker import build_worker, finish_jobs
from tests.conftest import FIXTURE_PACK

# The test suite's own plugins, installed the way pip would: a distribution on the path.
PLUGINS = Path(__file__).parent / "plugins"
sys.path.insert(0, str(PLUGINS))
discover.cache_clear()


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    # Seconds of backoff would only slow the suite; the rule is the same.
    monkeypatch.setattr(delivery, "BACKOFF_BASE", 0.01)
    monkeypatch.setattr(jobs, "RELAY_GRACE", timedelta(0))


@pytest.fixture
async def worker(settings):
    """The real arq worker, consuming the test queue until the test ends."""
    running = build_worker(settings, handle_signals=False)
    running.cron_jobs = []  # the relay runs when a test calls it
    task = asyncio.create_task(running.async_run())
    yield running
    await stop(running, task)


async def stop(running, task, patience=10.0):
    """Stop a test's worker as a deployment does: no new job, then let those in hand end."""
    await finish_jobs([running], patience)
    await running.close()
    task.cancel()


@pytest.fixture
async def office(client, onboard, make_key, db):
    """A province whose channel plan is given per test, and its staff keys."""

    async def make(order, channels, **kw):
        pack = read_pack(FIXTURE_PACK)
        province = await onboard(**kw)
        tenant = msgspec.structs.replace(
            pack.tenant,
            slug=province.slug,
            domains=[province.domain],
            channels={"order": order, **channels},
        )
        await apply_pack(db, msgspec.structs.replace(pack, tenant=tenant))
        officer = {"Authorization": f"Bearer {await make_key(Role.OFFICER, province)}"}
        admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, province)}"}
        base = f"/t/{province.slug}/api/v1"

        async def intake(phone="0912345678", email=None, headers=None):
            response = await client.post(
                f"{base}/dossiers",
                headers=headers or officer,
                json={
                    "procedure_code": "1.000894",
                    "applicant": {"full_name": "Phạm Văn Bình", "phone": phone, "email": email},
                },
            )
            assert response.status_code == 201, response.text
            return response.json()

        async def act(code, action, **extra):
            response = await client.post(
                f"{base}/dossiers/{code}/events", headers=officer, json={"action": action, **extra}
            )
            assert response.status_code == 200, response.text
            return response.json()

        async def notices(code):
            response = await client.get(f"{base}/dossiers/{code}/notices", headers=officer)
            assert response.status_code == 200, response.text
            return response.json()["items"]

        return SimpleNamespace(
            province=province,
            officer=officer,
            admin=admin,
            base=base,
            intake=intake,
            act=act,
            notices=notices,
        )

    return make


async def settle(check, timeout=10.0):
    """Wait until check() passes: the worker runs in the background."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)
