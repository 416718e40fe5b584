"""What an operator does at the command line is in the audit log, as over HTTP: who (their
login on the machine), what, on which target, from the client "cli"."""

import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from motcua.audit.models import AuditEvent, PlatformAuditEvent
from tests.conftest import FIXTURE_PACK

OPERATOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def motcua(settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env |= {"MOTCUA_DATABASE_URL": settings.database_url, "MOTCUA_REDIS_URL": settings.redis_url}

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "motcua.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cwd,
        )

    return run


async def province_rows(db, province):
    async with db.tenant_session(province.id) as session:
        return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


async def platform_rows(db, slug):
    async with db.platform_session() as session:
        return list(
            await session.scalars(
                select(PlatformAuditEvent)
                .where(PlatformAuditEvent.target == f"tenant:{slug}")
                .order_by(PlatformAuditEvent.id)
            )
        )


async def test_creating_and_revoking_a_provinces_key_is_in_its_log(motcua, make_tenant, db):
    province = await make_tenant()
    created = motcua("keys", "create", "--tenant", province.slug, "--role", "officer")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    key_id = key.split("_")[1]
    assert motcua("keys", "revoke", key_id).returncode == 0, "revoke"

    rows = await province_rows(db, province)
    assert [(r.action, r.target, r.subject, r.client) for r in rows] == [
        ("key.create", f"key:{key_id}", OPERATOR, "cli"),
        ("key.revoke", f"key:{key_id}", OPERATOR, "cli"),
    ]
    assert rows[0].detail["role"] == "officer"
    assert key not in str([r.detail for r in rows])  # the secret is never kept


async def test_a_platform_keys_rows_are_in_the_platforms_log(motcua, db):
    created = motcua("keys", "create", "--platform", "--name", "vận hành")
    assert created.returncode == 0, created.stderr
    key_id = created.stdout.strip().split("_")[1]
    assert motcua("keys", "revoke", key_id).returncode == 0
    async with db.platform_session() as session:
        rows = list(
            await session.scalars(
                select(PlatformAuditEvent)
                .where(PlatformAuditEvent.target == f"key:{key_id}")
                .order_by(PlatformAuditEvent.id)
            )
        )
    assert [(r.action, r.subject, r.client) for r in rows] == [
        ("key.create", OPERATOR, "cli"),
        ("key.revoke", OPERATOR, "cli"),
    ]


async def test_a_failed_command_leaves_no_row(motcua, db):
    assert motcua("keys", "revoke", "khong-co").returncode == 1
    assert motcua("tenants", "suspend", "khong-co").returncode == 1
    async with db.platform_session() as session:
        rows = await session.scalars(
            select(PlatformAuditEvent).where(
                PlatformAuditEvent.target.in_(("key:khong-co", "tenant:khong-co"))
            )
        )
        assert list(rows) == []


async def test_operating_a_province_from_the_command_line_is_in_the_platforms_log(
    motcua, db, tmp_path
):
    slug = "tinh-thu-cli"
    pack = tmp_path / slug
    pack.mkdir()
    for item in FIXTURE_PACK.iterdir():
        text = item.read_text(encoding="utf-8")
        if item.name == "tenant.toml":
            text = text.replace('slug = "tinh-thu"', f'slug = "{slug}"').replace(
                "tinh-thu.localhost", f"{slug}.localhost"
            )
        (pack / item.name).write_text(text, encoding="utf-8")

    assert motcua("tenants", "apply", str(pack)).returncode == 0
    assert motcua("tenants", "apply", str(pack)).returncode == 0  # no change: still a row
    assert motcua("tenants", "suspend", slug).returncode == 0
    assert motcua("tenants", "resume", slug).returncode == 0
    exported = motcua("tenants", "export", slug, "--output", str(tmp_path / "out.tar.gz"))
    assert exported.returncode == 0, exported.stderr
    removed = motcua("tenants", "remove", slug)
    assert removed.returncode == 0, removed.stderr

    rows = await platform_rows(db, slug)
    assert [r.action for r in rows] == [
        "tenant.apply",
        "tenant.apply",
        "tenant.suspend",
        "tenant.resume",
        "tenant.export",
        "tenant.remove",
    ]
    assert {(r.subject, r.client, r.tenant_slug) for r in rows} == {(OPERATOR, "cli", slug)}
