"""The operator's command line against the real database."""

import asyncio
import os
import subprocess
import sys

import pytest

from motcua.auth.service import RecentKeys


@pytest.fixture
def motcua(settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env |= {"MOTCUA_DATABASE_URL": settings.database_url, "MOTCUA_REDIS_URL": settings.redis_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "motcua.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


async def test_keys_are_created_listed_and_revoked(motcua, make_tenant, client, monkeypatch):
    # Another process revokes: this one notices once its few seconds of memory pass.
    monkeypatch.setattr(RecentKeys, "TTL", 0.2)
    province = await make_tenant()
    created = motcua(
        "keys", "create", "--tenant", province.slug, "--role", "admin", "--name", "bàn tiếp nhận"
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("mc_") and "shown once" in created.stderr
    auth = {"Authorization": f"Bearer {key}"}
    assert (await client.get(f"/t/{province.slug}/api/v1/keys", headers=auth)).status_code == 200

    listed = motcua("keys", "list", "--tenant", province.slug)
    key_id = key.split("_")[1]
    assert key_id in listed.stdout and "bàn tiếp nhận" in listed.stdout
    assert key not in listed.stdout

    assert motcua("keys", "revoke", key_id).returncode == 0
    assert "revoked" in motcua("keys", "list", "--tenant", province.slug).stdout
    await asyncio.sleep(0.3)
    assert (await client.get(f"/t/{province.slug}/api/v1/keys", headers=auth)).status_code == 401


async def test_key_creation_refuses_unknown_provinces_and_wrong_roles(motcua):
    unknown = motcua("keys", "create", "--tenant", "khong-co", "--role", "admin")
    assert unknown.returncode == 1 and "khong-co" in unknown.stderr
    wrong = motcua("keys", "create", "--platform", "--role", "admin")
    assert wrong.returncode == 2
    assert motcua("keys", "revoke", "nope").returncode == 1


async def test_tenants_list_shows_each_province(motcua, make_tenant):
    province = await make_tenant()
    listed = motcua("tenants", "list")
    assert listed.returncode == 0, listed.stderr
    assert any(
        line.startswith(province.slug) and "active" in line for line in listed.stdout.splitlines()
    )
