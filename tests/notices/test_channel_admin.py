"""A province's admin switches channels on and off over HTTP: settings checked against the
plugin's own type, secrets kept encrypted and never answered back, every change audited."""

import json

import msgspec
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from motcua.audit.models import AuditEvent
from motcua.notices.channel import resolve_settings
from motcua.notices.channels import ChannelSettingsService
from motcua.notices.models import ChannelSetting
from motcua.notices.schemas import ChannelIn
from motcua.notices.vault import Vault
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import read_pack
from motcua_channel_sms import SmsChannel
from motcua_channel_sms.standin import EsmsStandIn
from tests.conftest import FIXTURE_PACK
from tests.notices.conftest import settle

API_KEY = "esms-live-key-4f1c"
SECRET_KEY = "esms-live-secret-9a7d"
CALLBACK_TOKEN = "callback-token-77e0"
SECRETS = (API_KEY, SECRET_KEY, CALLBACK_TOKEN)


@pytest.fixture
async def esms():
    async with EsmsStandIn(
        api_key=API_KEY, secret_key=SECRET_KEY, brandnames=["UBND TT"]
    ) as standin:
        yield standin


def sms_channel(esms, **provider):
    return {
        "settings": {
            "callback_token": CALLBACK_TOKEN,
            "providers": [
                {
                    "kind": "esms",
                    "api_base": esms.base_url,
                    "api_key": API_KEY,
                    "secret_key": SECRET_KEY,
                    "brandname": "UBND TT",
                    **provider,
                }
            ],
        },
        "position": 0,
        "per_second": 20,
        "per_day": 5000,
        "quiet_hours": "22:00-06:00",
    }


async def stored(db, province, channel="sms"):
    async with db.tenant_session(province.id) as session:
        return await session.get(ChannelSetting, (province.id, channel))


async def audit_rows(db, province, action_prefix="channel."):
    async with db.tenant_session(province.id) as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.startswith(action_prefix))
            .order_by(AuditEvent.id)
        )
        return list(rows)


def row_text(row):
    return json.dumps(
        {
            "subject": row.subject,
            "display": row.display,
            "target": row.target,
            "client": row.client,
            "detail": row.detail,
        },
        ensure_ascii=False,
    )


async def test_an_admin_enables_sms_and_a_dossier_notice_goes_through_it(
    office, worker, client, db, esms
):
    desk = await office([], {})
    answer = await client.put(
        f"{desk.base}/channels/sms", headers=desk.admin, json=sms_channel(esms)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["position"] == 0 and body["per_day"] == 5000 and body["managed_by"] == "admin"
    provider = body["settings"]["providers"][0]
    assert provider["api_key"] == provider["secret_key"] == "********"
    assert body["settings"]["callback_token"] == "********"
    assert provider["brandname"] == "UBND TT"
    assert not any(secret in answer.text for secret in SECRETS)

    # At rest, only the vault's ciphertext.
    row = await stored(db, desk.province)
    at_rest = json.dumps(row.settings)
    assert not any(secret in at_rest for secret in SECRETS)
    assert row.settings["providers"][0]["api_key"].startswith("vault:")

    dossier = await desk.intake(phone="0912345678")
    [sms] = await esms.wait_for(1)
    assert sms.phone == "0912345678" and dossier["code"] in sms.text
    # The gateway posts its delivery receipt back to this province's own hook.
    assert f"/t/{desk.province.slug}/hooks/sms" in sms.callback_url

    async def sent():
        [notice] = await desk.notices(dossier["code"])
        assert notice["status"] == "sent" and notice["channel"] == "sms"

    await settle(sent)

    listed = await client.get(f"{desk.base}/channels", headers=desk.admin)
    assert listed.status_code == 200
    assert not any(secret in listed.text for secret in SECRETS)
    assert listed.json()[0]["settings"]["providers"][0]["api_key"] == "********"

    [update] = await audit_rows(db, desk.province)
    assert update.action == "channel.update" and update.target == "channel:sms"
    assert update.detail == {"position": 0, "per_day": 5000, "quiet_hours": "22:00-06:00"}
    assert not any(secret in row_text(update) for secret in SECRETS)


async def test_a_secret_left_out_on_update_keeps_the_stored_one(office, client, db, esms, settings):
    desk = await office([], {})
    first = await client.put(
        f"{desk.base}/channels/sms", headers=desk.admin, json=sms_channel(esms)
    )
    assert first.status_code == 200, first.text
    before = (await stored(db, desk.province)).settings

    # Left out, or sent back masked as the GET shows it: both keep the secret.
    change = sms_channel(esms, brandname="UBND TT")
    del change["settings"]["providers"][0]["api_key"]
    change["settings"]["providers"][0]["secret_key"] = "********"
    del change["settings"]["callback_token"]
    change["per_day"] = 100
    second = await client.put(f"{desk.base}/channels/sms", headers=desk.admin, json=change)
    assert second.status_code == 200, second.text
    assert second.json()["per_day"] == 100
    after = (await stored(db, desk.province)).settings
    assert after["providers"][0]["api_key"].startswith("vault:")
    vault = Vault(list(settings.secret_keys))
    kept = resolve_settings(SmsChannel, after, vault=vault)
    assert resolve_settings(SmsChannel, before, vault=vault) == kept
    assert (kept.providers[0].api_key, kept.providers[0].secret_key) == (API_KEY, SECRET_KEY)
    assert kept.callback_token == CALLBACK_TOKEN

    check = await client.post(f"{desk.base}/channels/sms/check", headers=desk.admin)
    assert check.json() == {
        "channel": "sms",
        "ok": True,
        "failure": None,
        "code": "",
        "detail": "",
    }

    # An env:VAR reference is kept as written, like a pack's.
    change["settings"]["providers"][0]["api_key"] = "env:TT_ESMS_KEY"
    third = await client.put(f"{desk.base}/channels/sms", headers=desk.admin, json=change)
    assert third.json()["settings"]["providers"][0]["api_key"] == "env:TT_ESMS_KEY"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"brandname": ...}, "settings.providers[0].brandname"),
        ({"weight": -1}, "settings.providers[0].weight"),
        ({"kind": "viettel"}, "settings.providers[0].kind"),
        ({"colour": "blue"}, "settings.providers[0].colour"),
    ],
)
async def test_a_bad_setting_is_a_422_naming_the_field_and_writes_nothing(
    office, client, db, esms, change, field
):
    desk = await office([], {})
    body = sms_channel(esms, **change)
    provider = body["settings"]["providers"][0]
    for name in [name for name, value in provider.items() if value is ...]:
        del provider[name]  # left out
    answer = await client.put(f"{desk.base}/channels/sms", headers=desk.admin, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in answer.json()["errors"]]
    assert not any(secret in answer.text for secret in SECRETS)
    assert await stored(db, desk.province) is None
    assert await audit_rows(db, desk.province) == []


async def test_limits_and_quiet_hours_are_checked(office, client, db, esms):
    desk = await office([], {})
    body = {**sms_channel(esms), "per_day": 0, "quiet_hours": "late", "position": -1}
    answer = await client.put(f"{desk.base}/channels/sms", headers=desk.admin, json=body)
    assert answer.status_code == 422
    fields = {error["field"] for error in answer.json()["errors"]}
    assert fields == {"per_day", "quiet_hours", "position"}
    assert await stored(db, desk.province) is None


async def test_an_unknown_channel_is_a_404(office, client):
    desk = await office([], {})
    answer = await client.put(
        f"{desk.base}/channels/pigeon", headers=desk.admin, json={"settings": {}}
    )
    assert answer.status_code == 404
    assert (
        await client.post(f"{desk.base}/channels/pigeon/check", headers=desk.admin)
    ).status_code == 404
    assert (await client.delete(f"{desk.base}/channels/sms", headers=desk.admin)).status_code == 404


async def test_another_province_neither_sees_nor_changes_the_channel(
    office, client, db, esms, make_key
):
    desk = await office([], {})
    other = await office([], {})
    assert (
        await client.put(f"{desk.base}/channels/sms", headers=desk.admin, json=sms_channel(esms))
    ).status_code == 200

    # The other province's admin, on its own address: nothing of the first one's.
    assert (await client.get(f"{other.base}/channels", headers=other.admin)).json() == []
    assert (
        await client.delete(f"{other.base}/channels/sms", headers=other.admin)
    ).status_code == 404
    assert (
        await client.post(f"{other.base}/channels/sms/check", headers=other.admin)
    ).status_code == 404
    # ... and on the first province's address, its key is refused.
    for method, path in (
        ("GET", "/channels"),
        ("PUT", "/channels/sms"),
        ("POST", "/channels/sms/check"),
        ("DELETE", "/channels/sms"),
    ):
        answer = await client.request(
            method, f"{desk.base}{path}", headers=other.admin, json=sms_channel(esms)
        )
        assert answer.status_code in (401, 403), (method, path, answer.status_code)
        assert not any(secret in answer.text for secret in SECRETS)
    row = await stored(db, desk.province)
    assert row is not None and row.settings["providers"][0]["brandname"] == "UBND TT"


async def test_an_officer_may_not_touch_channels(office, client, db, esms):
    desk = await office([], {})
    for method, path in (
        ("PUT", "/channels/sms"),
        ("POST", "/channels/sms/check"),
        ("DELETE", "/channels/sms"),
        ("GET", "/channels"),
    ):
        answer = await client.request(
            method, f"{desk.base}{path}", headers=desk.officer, json=sms_channel(esms)
        )
        assert answer.status_code == 403, (method, path)
    assert await stored(db, desk.province) is None


async def test_check_reports_a_wrong_key_as_a_configuration_failure(
    office, client, db, esms, caplog
):
    desk = await office([], {})
    wrong = sms_channel(esms, api_key="not-the-key")
    assert (
        await client.put(f"{desk.base}/channels/sms", headers=desk.admin, json=wrong)
    ).status_code == 200
    check = await client.post(f"{desk.base}/channels/sms/check", headers=desk.admin)
    assert check.status_code == 200
    result = check.json()
    assert result["ok"] is False
    assert result["failure"] == "configuration" and result["code"] == "101"
    assert "esms" in result["detail"]
    assert not any(secret in check.text for secret in (*SECRETS, "not-the-key"))
    assert esms.received == []  # a check sends nobody anything
    assert not any(secret in caplog.text for secret in (*SECRETS, "not-the-key"))

    [_update, checked] = await audit_rows(db, desk.province)
    assert (checked.action, checked.target) == ("channel.check", "channel:sms")


async def test_disabling_a_channel_takes_it_out_of_the_plan(office, client, db, esms):
    desk = await office([], {})
    await client.put(f"{desk.base}/channels/sms", headers=desk.admin, json=sms_channel(esms))
    answer = await client.delete(f"{desk.base}/channels/sms", headers=desk.admin)
    assert answer.status_code == 204
    assert await stored(db, desk.province) is None
    assert (await client.get(f"{desk.base}/channels", headers=desk.admin)).json() == []
    assert (await client.delete(f"{desk.base}/channels/sms", headers=desk.admin)).status_code == 404
    actions = [row.action for row in await audit_rows(db, desk.province)]
    assert actions == ["channel.update", "channel.disable"]


async def test_a_pack_applied_again_leaves_the_admins_channels_alone(office, client, db, esms):
    desk = await office([], {})
    await client.put(f"{desk.base}/channels/sms", headers=desk.admin, json=sms_channel(esms))
    pack = read_pack(FIXTURE_PACK)
    tenant = msgspec.structs.replace(
        pack.tenant,
        slug=desk.province.slug,
        domains=[desk.province.domain],
        channels={"order": ["console"], "console": {}},
    )
    await apply_pack(db, msgspec.structs.replace(pack, tenant=tenant))
    listed = (await client.get(f"{desk.base}/channels", headers=desk.admin)).json()
    assert {(c["channel"], c["managed_by"]) for c in listed} == {
        ("console", "pack"),
        ("sms", "admin"),
    }


async def test_saving_a_channel_again_re_encrypts_its_secrets_with_the_newest_key(
    office, client, db, esms
):
    desk = await office([], {})
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    async with db.tenant_session(desk.province.id) as session:
        await ChannelSettingsService(session, Vault([old_key])).put(
            "sms", msgspec.convert(sms_channel(esms), ChannelIn)
        )
        await session.commit()

    # Rotation: the new key in front, the old one kept; the admin saves the channel again
    # without giving its secrets.
    unchanged = sms_channel(esms)
    for provider in unchanged["settings"]["providers"]:
        del provider["api_key"], provider["secret_key"]
    del unchanged["settings"]["callback_token"]
    async with db.tenant_session(desk.province.id) as session:
        await ChannelSettingsService(session, Vault([new_key, old_key])).put(
            "sms", msgspec.convert(unchanged, ChannelIn)
        )
        await session.commit()

    row = await stored(db, desk.province)
    settings = resolve_settings(SmsChannel, row.settings, vault=Vault([new_key]))
    assert settings.providers[0].api_key == API_KEY
    assert settings.providers[0].secret_key == SECRET_KEY
    assert settings.callback_token == CALLBACK_TOKEN


async def test_an_export_names_the_vaults_secrets_instead_of_holding_them(
    office, client, esms, make_key, tmp_path
):
    """The exported pack applies elsewhere once the named variables are set; it holds no
    secret, not even the vault's ciphertext."""
    import io
    import tarfile

    from motcua.auth.models import Role

    desk = await office([], {})
    answer = await client.put(
        f"{desk.base}/channels/sms", headers=desk.admin, json=sms_channel(esms)
    )
    assert answer.status_code == 200, answer.text
    operator = {"Authorization": f"Bearer {await make_key(Role.OPERATOR)}"}
    slug = desk.province.slug
    exported = await client.get(f"/api/v1/platform/tenants/{slug}/export", headers=operator)
    assert exported.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(exported.content)) as archive:
        archive.extractall(tmp_path, filter="data")
    tenant_toml = (tmp_path / slug / "tenant.toml").read_text()
    assert "vault:" not in tenant_toml
    assert not any(secret in tenant_toml for secret in SECRETS)
    prefix = f"MOTCUA_{slug.upper().replace('-', '_')}_SMS"
    wanted = json.loads((tmp_path / slug / "manifest.json").read_text())["secrets_to_provide"]
    assert sorted(wanted) == sorted(
        [
            f"{prefix}_CALLBACK_TOKEN",
            f"{prefix}_PROVIDERS_0_API_KEY",
            f"{prefix}_PROVIDERS_0_SECRET_KEY",
        ]
    )
    pack = read_pack(tmp_path / slug)  # no secret in clear: the pack reads without a problem
    [provider] = pack.tenant.channels["sms"]["providers"]
    assert provider["api_key"] == f"env:{prefix}_PROVIDERS_0_API_KEY"
    assert provider["brandname"] == "UBND TT"  # the rest as the admin set it
