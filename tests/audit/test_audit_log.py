"""Every staff and integration change leaves an audit row; admins and operators read them."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from motcua.auth.models import Role
from motcua.auth.service import KeyService


async def _log(client, desk, **params):
    response = await client.get(f"{desk.base}/audit", params=params, headers=desk.admin)
    assert response.status_code == 200, response.text
    return response.json()


async def test_intake_events_catalogue_templates_and_keys_each_leave_a_row(client, desk):
    dossier = await desk.intake()
    code = dossier["code"]
    await desk.act(code, "start")
    await desk.procedure("9.000001", 3)
    created = await client.post(
        f"{desk.base}/keys", json={"role": "integration", "name": "Cổng DVC"}, headers=desk.admin
    )
    key_id = created.json()["id"]
    await client.delete(f"{desk.base}/keys/{key_id}", headers=desk.admin)
    template = await client.put(
        f"{desk.base}/templates/received/*",
        json={"body": "Hồ sơ {code} đã được tiếp nhận."},
        headers=desk.admin,
    )
    assert template.status_code == 200, template.text

    rows = (await _log(client, desk))["items"]
    actions = [(r["action"], r["target"]) for r in rows]
    assert actions == [
        ("template.put", "template:received/*"),
        ("key.revoke", f"key:{key_id}"),
        ("key.create", f"key:{key_id}"),
        ("catalogue.put", "procedure:9.000001"),
        ("dossier.event", f"dossier:{code}"),
        ("dossier.intake", f"dossier:{code}"),
    ]
    event = rows[4]
    assert event["detail"] == {"action": "start"}
    assert event["subject"].startswith("key:") and event["client"].startswith("10.")
    assert rows[2]["detail"] == {"role": "integration", "name": "Cổng DVC"}
    assert "key" not in json.dumps(rows[2]["detail"]).lower().replace('"key', "")


async def test_a_refused_change_leaves_no_row(client, desk):
    dossier = await desk.intake()
    await desk.act(dossier["code"], "complete", expect=409)
    rows = (await _log(client, desk, action="dossier."))["items"]
    assert [r["action"] for r in rows] == ["dossier.intake"]


async def test_staff_reads_of_a_dossier_and_its_receipt_are_recorded(client, desk):
    dossier = await desk.intake()
    code = dossier["code"]
    assert (await client.get(f"{desk.base}/dossiers/{code}", headers=desk.officer)).is_success
    receipt = await client.get(f"{desk.base}/dossiers/{code}/receipt", headers=desk.officer)
    assert receipt.is_success
    reads = (await _log(client, desk, action="dossier.read"))["items"]
    assert [r["target"] for r in reads] == [f"dossier:{code}"] * 2


async def test_the_log_pages_and_filters_by_subject_and_date(client, desk):
    for _ in range(3):
        await desk.intake()
    everyone = await _log(client, desk)
    subject = everyone["items"][0]["subject"]
    first = await _log(client, desk, subject=subject, limit=2)
    assert len(first["items"]) == 2 and first["next_before"]
    rest = await _log(client, desk, subject=subject, limit=2, before=first["next_before"])
    assert len(rest["items"]) == 1 and rest["next_before"] is None
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await _log(client, desk, since=later))["items"] == []
    assert len((await _log(client, desk, until=later))["items"]) == 3


async def test_admins_export_their_log_as_csv_and_json_lines(client, desk):
    dossier = await desk.intake()
    csv_export = await client.get(
        f"{desk.base}/audit/export", params={"format": "csv"}, headers=desk.admin
    )
    assert csv_export.status_code == 200
    assert csv_export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_export.text)))
    assert rows[-1]["action"] == "dossier.intake"
    assert rows[-1]["target"] == f"dossier:{dossier['code']}"
    lines = await client.get(
        f"{desk.base}/audit/export", params={"format": "jsonl"}, headers=desk.admin
    )
    parsed = [json.loads(line) for line in lines.text.splitlines()]
    # The first export is itself in the log, before the second one was taken.
    assert [p["action"] for p in parsed] == ["audit.export", "dossier.intake"]


async def test_only_the_provinces_admins_read_its_log(client, desk, onboard, make_key):
    assert (await client.get(f"{desk.base}/audit", headers=desk.officer)).status_code == 403
    assert (await client.get(f"{desk.base}/audit", headers=desk.integration)).status_code == 403
    other = await onboard()
    stranger = {"Authorization": f"Bearer {await make_key(Role.ADMIN, other)}"}
    assert (await client.get(f"{desk.base}/audit", headers=stranger)).status_code == 403
    await desk.intake()
    theirs = await client.get(f"/t/{other.slug}/api/v1/audit", headers=stranger)
    assert theirs.json()["items"] == []
    platform = await client.get("/api/v1/platform/audit", headers=desk.admin)
    assert platform.status_code == 403


async def test_operators_actions_on_tenants_are_in_the_platform_log(client, onboard, make_key, db):
    province = await onboard()
    operator = {"Authorization": f"Bearer {await make_key(Role.OPERATOR)}"}
    base = f"/api/v1/platform/tenants/{province.slug}"
    assert (await client.post(f"{base}/suspend", headers=operator)).status_code == 200
    assert (await client.post(f"{base}/resume", headers=operator)).status_code == 200
    assert (await client.delete(base, params={"force": "true"}, headers=operator)).is_success

    log = await client.get(
        "/api/v1/platform/audit", params={"tenant": province.slug}, headers=operator
    )
    assert log.status_code == 200
    assert [(r["action"], r["target"]) for r in log.json()["items"]] == [
        ("tenant.remove", f"tenant:{province.slug}"),
        ("tenant.resume", f"tenant:{province.slug}"),
        ("tenant.suspend", f"tenant:{province.slug}"),
    ]
    exported = await client.get(
        "/api/v1/platform/audit/export", params={"format": "jsonl"}, headers=operator
    )
    assert exported.status_code == 200 and "tenant.remove" in exported.text


async def test_an_officers_agency_is_kept_with_the_row(client, desk, db):
    async with db.platform_session() as session:
        _, key = await KeyService(session).create(
            role=Role.OFFICER, tenant_id=desk.province.id, agency_code="TT.X.AN"
        )
        await session.commit()
    dossier = await desk.intake()
    await client.get(
        f"{desk.base}/dossiers/{dossier['code']}", headers={"Authorization": f"Bearer {key}"}
    )
    rows = (await _log(client, desk, action="dossier.read"))["items"]
    assert rows[0]["agency_code"] == "TT.X.AN"
