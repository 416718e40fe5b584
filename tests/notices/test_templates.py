"""Provinces word their notices; placeholders are checked; SMS length is told before saving."""

import pytest

from motcua.notices.templates import DEFAULTS, KINDS, PLACEHOLDERS, placeholders_in, sms_segments
from tests.notices.conftest import settle


def test_every_kind_has_vietnamese_and_english_wording_with_known_placeholders():
    for locale in ("vi", "en"):
        assert set(DEFAULTS[locale]) == set(KINDS)
        for subject, body in DEFAULTS[locale].values():
            assert set(placeholders_in(subject + body)) <= PLACEHOLDERS
    assert "xin lỗi" in DEFAULTS["vi"]["result_ready_late"][1]
    assert "{rating_url}" in DEFAULTS["vi"]["returned"][1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ho so da co ket qua", ("GSM-7", 19, 1)),
        ("x" * 160, ("GSM-7", 160, 1)),
        ("x" * 161, ("GSM-7", 161, 2)),
        ("[" * 80, ("GSM-7", 160, 1)),  # the extension table counts twice
        ("[" * 81, ("GSM-7", 162, 2)),
        ("Hồ sơ đã có kết quả", ("UCS-2", 19, 1)),
        ("ố" * 70, ("UCS-2", 70, 1)),
        ("ố" * 71, ("UCS-2", 71, 2)),
        ("ố" * 135, ("UCS-2", 135, 3)),
    ],
)
def test_sms_encoding_and_segments(text, expected):
    assert sms_segments(text) == expected


async def test_a_saved_template_is_versioned_checked_and_used(office, worker, client):
    desk = await office(["console"], {"console": {}})
    path = f"{desk.base}/templates/received/*"
    bad = await client.put(
        path, headers=desk.admin, json={"body": "Hồ sơ {code} của {ho_ten} {code!r}"}
    )
    assert bad.status_code == 422
    assert {e["message"] for e in bad.json()["errors"]} == {"'{code}' is not a plain placeholder"}
    unknown = await client.put(path, headers=desk.admin, json={"body": "Hồ sơ {ho_ten}"})
    assert unknown.json()["errors"] == [
        {"field": "body", "message": "unknown placeholder {ho_ten}"}
    ]
    officer = await client.put(path, headers=desk.officer, json={"body": "x"})
    assert officer.status_code == 403
    for n in (1, 2):
        saved = await client.put(
            path,
            headers=desk.admin,
            json={"body": f"Tỉnh Thử đã nhận hồ sơ {{code}} (lần {n}). Tra cứu: {{tracking_url}}"},
        )
        assert saved.status_code == 200 and saved.json()["version"] == n
    assert saved.json()["sms"]["encoding"] == "UCS-2"

    dossier = await desk.intake()

    async def sent():
        [notice] = await desk.notices(dossier["code"])
        assert notice["status"] == "sent"
        return notice

    notice = await settle(sent)
    assert notice["template_version"] == 2
    listing = await client.get(f"{desk.base}/templates", headers=desk.admin)
    received = [t for t in listing.json()["items"] if t["kind"] == "received"]
    assert received[0]["version"] == 2 and "tracking_url" in listing.json()["placeholders"]


async def test_the_editor_previews_sms_length(office, client):
    desk = await office(["console"], {"console": {}})
    preview = await client.post(
        f"{desk.base}/templates/preview",
        headers=desk.admin,
        json={"body": "Hồ sơ {code} đã có kết quả"},
    )
    assert preview.json() == {"encoding": "UCS-2", "characters": 26, "segments": 1}


async def test_channel_settings_are_listed_without_secrets(office, client, monkeypatch):
    desk = await office(
        ["sms"],
        {
            "sms": {
                "providers": [
                    {
                        "kind": "esms",
                        "api_key": "env:TT_ESMS_KEY",
                        "secret_key": "clear-secret",
                        "brandname": "UBND TT",
                    }
                ]
            }
        },
    )
    listed = (await client.get(f"{desk.base}/channels", headers=desk.admin)).json()
    [sms] = listed
    provider = sms["settings"]["providers"][0]
    assert provider["api_key"] == "env:TT_ESMS_KEY" and provider["secret_key"] == "********"
    assert "clear-secret" not in str(listed)


async def test_staff_see_figures_per_channel(office, worker, client):
    desk = await office(["console"], {"console": {}})
    dossier = await desk.intake()
    await desk.act(dossier["code"], "start")

    async def counted():
        figures = (await client.get(f"{desk.base}/notices/figures", headers=desk.officer)).json()
        [console] = figures["channels"]
        assert console["sent"] == 2 and console["failed"] == 0
        return console

    console = await settle(counted)
    assert console["sent_within_10s"] == 1.0


def test_a_field_a_plugin_marks_secret_must_be_an_env_reference():
    from motcua.notices.channels import secret_problems

    assert secret_problems({"flaky": {"passphrase": "env:TT_FLAKY"}}, "channels") == []
    assert secret_problems({"flaky": {"passphrase": "open sesame"}}, "channels") == [
        ("channels.flaky.passphrase", "is a secret: write it as env:VARIABLE, never in clear")
    ]
