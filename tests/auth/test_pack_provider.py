"""A province's identity provider from its pack's [auth.oidc]: checked, applied, exported."""

import io
import json
import secrets
import shutil
import tarfile
import tomllib

import msgspec
import pytest

from motcua.auth.models import Role
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import PackInvalid, read_pack
from motcua.tenancy.service import TenantService
from tests.auth.conftest import sign_in_with_provider
from tests.conftest import FIXTURE_PACK


def pack_folder(tmp_path, slug, oidc_toml):
    folder = tmp_path / slug
    shutil.copytree(FIXTURE_PACK, folder)
    meta = (folder / "tenant.toml").read_text()
    meta = meta.replace('slug = "tinh-thu"', f'slug = "{slug}"')
    meta = meta.replace('domains = ["tinh-thu.localhost"]', f'domains = ["{slug}.example.vn"]')
    (folder / "tenant.toml").write_text(meta + "\n" + oidc_toml)
    return folder


def oidc_table(issuer, secret="env:MOTCUA_TEST_OIDC_SECRET"):  # noqa: S107 - a reference
    return f"""
[auth.oidc]
issuer = "{issuer}"
client_id = "motcua"
client_secret = "{secret}"
role_claim = "roles"
agency_claim = "agency"

[auth.oidc.role_map]
"motcua-officer" = "officer"
"Cán bộ quản trị" = "admin"
"""


async def test_a_pack_with_a_provider_is_onboarded_and_its_officers_sign_in(
    client, db, app, provider, tmp_path
):
    slug = f"p-{secrets.token_hex(3)}"
    folder = pack_folder(tmp_path, slug, oidc_table(provider.issuer))
    pack = read_pack(folder)
    applied = await apply_pack(db, pack)
    assert "sign-in: identity provider set" in applied.changes
    assert not (await apply_pack(db, read_pack(folder))).changed  # idempotent
    app.state.services.directory.invalidate()

    provider.user = {**provider.user, "roles": ["motcua-officer"], "agency": "TT.X.AN"}
    done, _ = await sign_in_with_provider(client, provider, f"/t/{slug}/api/v1")
    assert done.status_code == 303, done.text
    me = (await client.get(f"/t/{slug}/api/v1/auth/me")).json()
    assert (me["role"], me["agency_code"]) == ("officer", "TT.X.AN")

    # The export carries the table, re-appliable as it is; the secret stays a reference.
    archive = io.BytesIO()
    await TenantService(db).export(slug, archive)
    archive.seek(0)
    with tarfile.open(fileobj=archive) as tar:
        tar.extractall(tmp_path / "export", filter="data")
        meta = tomllib.loads((tmp_path / "export" / slug / "tenant.toml").read_text())
    assert meta["auth"]["oidc"]["client_secret"] == "env:MOTCUA_TEST_OIDC_SECRET"
    # What must be set where the pack is applied: the variables the pack names too.
    manifest = json.loads((tmp_path / "export" / slug / "manifest.json").read_text())
    assert "MOTCUA_TEST_OIDC_SECRET" in manifest["secrets_to_provide"]
    assert meta["auth"]["oidc"]["role_map"]["Cán bộ quản trị"] == "admin"
    again = read_pack(tmp_path / "export" / slug)
    assert again.tenant.auth == pack.tenant.auth
    assert not (await apply_pack(db, again)).changed


async def test_a_pack_with_a_bad_provider_is_refused_naming_the_field(
    client, provider, tmp_path, make_key
):
    slug = f"p-{secrets.token_hex(3)}"
    bad = oidc_table("http://sso.example.vn", secret="in-clear").replace(
        '"motcua-officer" = "officer"', '"motcua-officer" = "boss"'
    )
    with pytest.raises(PackInvalid) as refused:
        read_pack(pack_folder(tmp_path, slug, bad))
    fields = {(p.file, p.field) for p in refused.value.problems}
    assert fields == {
        ("tenant.toml", "auth.oidc.issuer"),
        ("tenant.toml", "auth.oidc.client_secret"),
        ("tenant.toml", "auth.oidc.role_map.motcua-officer"),
    }
    assert all(p.line > 0 for p in refused.value.problems)
    unknown = oidc_table(provider.issuer).replace('client_id = "motcua"', "clientid = 1")
    with pytest.raises(PackInvalid) as refused:
        read_pack(pack_folder(tmp_path, f"{slug}-2", unknown))
    assert refused.value.problems[0].field == "auth.oidc"
    assert "clientid" in refused.value.problems[0].message

    # Over HTTP: a 422 naming the field, and nothing of the province written.
    operator = {"Authorization": f"Bearer {await make_key(Role.OPERATOR)}"}
    pack = msgspec.to_builtins(read_pack(FIXTURE_PACK))
    pack["tenant"].update(slug=slug, domains=[f"{slug}.example.vn"])
    pack["tenant"]["auth"] = {
        "oidc": {
            "issuer": provider.issuer,
            "client_id": "motcua",
            "client_secret": "s3cret-of-the-test",
        }
    }
    answer = await client.post("/api/v1/platform/tenants", json=pack, headers=operator)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["auth.oidc.client_secret"]
    missing = await client.get(f"/api/v1/platform/tenants/{slug}", headers=operator)
    assert missing.status_code == 404
