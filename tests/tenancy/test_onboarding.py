"""Onboarding a province from its pack, updating it, and the tenant's lifecycle."""

import io
import os
import subprocess
import sys
import tarfile

import msgspec
import pytest
from sqlalchemy import func, select, text

from motcua.auth.models import Role
from motcua.catalog.models import Procedure
from motcua.catalog.schemas import ProcedureIn
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import read_pack
from tests.conftest import FIXTURE_PACK


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def _fixture(slug):
    pack = read_pack(FIXTURE_PACK)
    tenant = msgspec.structs.replace(pack.tenant, slug=slug, domains=[f"{slug}.example.vn"])
    return msgspec.structs.replace(pack, tenant=tenant)


async def test_a_pack_onboards_a_province_and_reapplying_changes_nothing(db, make_key, client):
    pack = _fixture("tinh-moi")
    first = await apply_pack(db, pack)
    assert first.created and first.changed
    again = await apply_pack(db, pack)
    assert not again.changed and again.summary() == "tinh-moi: no changes"

    operator = await make_key(Role.OPERATOR)
    listed = await client.get("/api/v1/platform/tenants/tinh-moi", headers=bearer(operator))
    counts = listed.json()["counts"]
    assert counts["agencies"] == 5 and counts["procedures"] == 5
    assert counts["calendar_days"] > 20  # the national calendar, with the province's own day


async def test_a_changed_pack_updates_exactly_what_changed(db, client):
    pack = _fixture("tinh-doi")
    await apply_pack(db, pack)
    renamed = msgspec.structs.replace(pack.procedures[0], name="Đăng ký kết hôn (mới)")
    added = ProcedureIn(
        code="9.000001",
        name="Cấp phiếu lý lịch tư pháp",
        field="Lý lịch tư pháp",
        level="province",
        agency_codes=["TT.STP"],
        processing_days="10",
    )
    changed = msgspec.structs.replace(
        pack,
        procedures=[renamed, *pack.procedures[1:4], added],  # the fifth is dropped
    )
    applied = await apply_pack(db, changed)
    assert applied.changes == ["procedures: 1 added, 1 updated, 1 retired"]

    retired_code = pack.procedures[4].code
    one = await client.get(f"/t/tinh-doi/api/v1/procedures/{retired_code}")
    assert one.status_code == 200 and one.json()["active"] is False
    names = [p["name"] for p in (await client.get("/t/tinh-doi/api/v1/procedures")).json()["items"]]
    assert pack.procedures[4].name not in names
    assert "Đăng ký kết hôn (mới)" in names and "Cấp phiếu lý lịch tư pháp" in names


async def test_onboarding_over_http_answers_201_then_200_and_refuses_bad_packs(client, make_key):
    operator = bearer(await make_key(Role.OPERATOR))
    pack = msgspec.to_builtins(_fixture("tinh-http"))
    created = await client.post("/api/v1/platform/tenants", json=pack, headers=operator)
    assert created.status_code == 201, created.text
    assert created.json()["created"] is True
    again = await client.post("/api/v1/platform/tenants", json=pack, headers=operator)
    assert again.status_code == 200 and again.json()["changed"] is False

    pack["procedures"][0]["agency_codes"] = ["KHONG.CO"]
    pack["agencies"][1]["level"] = "thôn"
    pack["tenant"]["channels"]["sms"] = {"password": "in clear"}
    bad = await client.post("/api/v1/platform/tenants", json=pack, headers=operator)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    errors = {(e["file"], e["line"], e["field"]) for e in bad.json()["errors"]}
    assert errors == {
        ("procedures", 1, "agency_codes"),
        ("agencies", 2, "level"),
        ("tenant.toml", 0, "channels.sms.password"),
    }
    still = await client.get("/t/tinh-http/api/v1/procedures/1.000894")
    assert [a["code"] for a in still.json()["agencies"]] == ["TT.X.AN", "TT.X.HOA"]

    admin = bearer(await make_key(Role.ADMIN, await _province(client, operator, "tinh-http")))
    refused = await client.post("/api/v1/platform/tenants", json=pack, headers=admin)
    assert refused.status_code == 403


async def _province(client, operator, slug):
    from types import SimpleNamespace

    from motcua.tenancy.models import Tenant

    app = client._transport.app
    async with app.state.services.db.platform_session() as session:
        tenant = (await session.scalars(select(Tenant).where(Tenant.slug == slug))).one()
    return SimpleNamespace(id=tenant.id, slug=slug)


async def test_a_domain_of_another_province_is_refused(db):
    await apply_pack(db, _fixture("tinh-mot"))
    pack = _fixture("tinh-hai")
    clash = msgspec.structs.replace(pack.tenant, domains=["tinh-mot.example.vn"])
    with pytest.raises(Exception, match="problem") as caught:
        await apply_pack(db, msgspec.structs.replace(pack, tenant=clash))
    assert "another province" in caught.value.problems[0].message


async def test_suspend_keeps_the_catalogue_public_and_closes_staff_routes(
    client, onboard, make_key
):
    province = await onboard()
    operator, admin = (
        bearer(await make_key(Role.OPERATOR)),
        bearer(await make_key(Role.ADMIN, province)),
    )
    suspended = await client.post(
        f"/api/v1/platform/tenants/{province.slug}/suspend", headers=operator
    )
    assert suspended.json()["status"] == "suspended"
    assert (await client.get(f"/t/{province.slug}/api/v1/procedures")).status_code == 200
    assert (await client.get(f"/t/{province.slug}/api/v1/keys", headers=admin)).status_code == 403
    resumed = await client.post(
        f"/api/v1/platform/tenants/{province.slug}/resume", headers=operator
    )
    assert resumed.json()["status"] == "active"
    assert (await client.get(f"/t/{province.slug}/api/v1/keys", headers=admin)).status_code == 200


async def test_export_holds_the_pack_and_every_row(client, onboard, make_key, tmp_path):
    province = await onboard()
    operator = bearer(await make_key(Role.OPERATOR))
    response = await client.get(
        f"/api/v1/platform/tenants/{province.slug}/export", headers=operator
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(response.content)) as archive:
        names = set(archive.getnames())
        archive.extractall(tmp_path, filter="data")
    root = f"{province.slug}/"
    assert {
        root + n
        for n in (
            "tenant.toml",
            "agencies.csv",
            "procedures.csv",
            "calendar.toml",
            "manifest.json",
            "data/procedures.jsonl",
            "data/agencies.jsonl",
        )
    } <= names
    again = read_pack(tmp_path / province.slug)
    original = read_pack(FIXTURE_PACK)
    assert sorted(again.procedures, key=lambda p: p.code) == sorted(
        original.procedures, key=lambda p: p.code
    )
    assert [e.date for e in again.calendar.holidays] == [e.date for e in original.calendar.holidays]
    lines = (tmp_path / province.slug / "data" / "procedures.jsonl").read_text().splitlines()
    assert len(lines) == 5


async def test_remove_needs_an_export_and_deletes_only_that_tenant(client, db, onboard, make_key):
    doomed, kept = await onboard(), await onboard()
    operator = bearer(await make_key(Role.OPERATOR))
    path = f"/api/v1/platform/tenants/{doomed.slug}"
    refused = await client.delete(path, headers=operator)
    assert refused.status_code == 409

    async def rows():
        async with db.tenant_session(kept.id) as session:
            return await session.scalar(select(func.count()).select_from(Procedure))

    before = await rows()
    assert (await client.get(f"{path}/export", headers=operator)).status_code == 200
    removed = await client.delete(path, headers=operator)
    assert removed.status_code == 200
    assert removed.json()["deleted"]["procedures"] == 5
    assert (await client.get(path, headers=operator)).status_code == 404
    assert (await client.get(f"/t/{doomed.slug}/api/v1/procedures")).status_code == 404
    assert await rows() == before
    async with db.platform_session() as session:
        left = await session.scalar(
            text("SELECT count(*) FROM api_keys WHERE tenant_id = :t"), {"t": doomed.id}
        )
    assert left == 0


def test_the_command_line_applies_shows_progress_and_says_when_nothing_changed(settings, tmp_path):
    import shutil

    pack = tmp_path / "tinh-cli"
    shutil.copytree(FIXTURE_PACK, pack)
    toml = (pack / "tenant.toml").read_text("utf-8")
    (pack / "tenant.toml").write_text(
        toml.replace('"tinh-thu"', '"tinh-cli"').replace(
            "tinh-thu.localhost", "tinh-cli.localhost"
        ),
        "utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env |= {"MOTCUA_DATABASE_URL": settings.database_url}

    def motcua(*args):
        return subprocess.run(
            [sys.executable, "-m", "motcua.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    first = motcua("tenants", "apply", str(pack))
    assert first.returncode == 0, first.stderr
    assert "procedures (5)" in first.stderr and "tinh-cli: onboarded" in first.stderr
    second = motcua("tenants", "apply", str(pack))
    assert second.stderr.strip().splitlines()[-1] == "tinh-cli: no changes"

    (pack / "procedures.csv").write_text(
        (pack / "procedures.csv").read_text("utf-8").replace(",TT.X.AN,5,", ",TT.X.AN,-5,"), "utf-8"
    )
    bad = motcua("tenants", "apply", str(pack))
    assert bad.returncode == 1
    assert "tinh-cli/procedures.csv:4: processing_days must not be negative" in bad.stderr

    assert motcua("tenants", "suspend", "tinh-cli").returncode == 0
    assert "suspended" in motcua("tenants", "list").stdout
    out = tmp_path / "out.tar.gz"
    assert motcua("tenants", "remove", "tinh-cli").returncode == 1
    assert motcua("tenants", "export", "tinh-cli", "-o", str(out)).returncode == 0
    assert tarfile.is_tarfile(out)
    assert motcua("tenants", "remove", "tinh-cli").returncode == 0
    assert "tinh-cli" not in motcua("tenants", "list").stdout
