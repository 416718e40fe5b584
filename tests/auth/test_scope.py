"""Scope: a commune officer acts on their commune's dossiers only; a viewer only reads."""

import pytest

from motcua.auth.models import Role
from motcua.auth.scope import agencies_under, scope_of
from motcua.auth.service import KeyService, Principal

TREE = {
    "TT": None,
    "TT.STP": "TT",
    "TT.X.AN": "TT",
    "TT.X.AN.THON1": "TT.X.AN",
    "TT.X.HOA": "TT",
}


def officer(agency, role=Role.OFFICER):
    return Principal(kind="key", subject="key:x", tenant_id=None, role=role, agency_code=agency)


def test_an_agency_reaches_itself_and_everything_below_it():
    assert agencies_under("TT.X.AN", TREE) == {"TT.X.AN", "TT.X.AN.THON1"}
    assert agencies_under("TT", TREE) == set(TREE)


def test_a_cycle_in_the_tree_does_not_loop():
    assert agencies_under("A", {"A": "B", "B": "A"}) == {"A", "B"}


def test_admins_integrations_and_unnarrowed_officers_see_the_whole_province():
    assert scope_of(officer(None), TREE) is None
    assert scope_of(officer("TT.X.AN", Role.ADMIN), TREE) is None
    assert scope_of(officer("TT.X.AN", Role.INTEGRATION), TREE) is None
    assert scope_of(officer("TT.X.AN", Role.VIEWER), TREE) == {"TT.X.AN", "TT.X.AN.THON1"}


@pytest.fixture
async def communes(client, db, onboard, make_key):
    province = await onboard()

    async def key(role, agency=None):
        async with db.platform_session() as session:
            _, plaintext = await KeyService(session).create(
                role=role, tenant_id=province.id, agency_code=agency, name=f"{role} {agency}"
            )
            await session.commit()
        return {"Authorization": f"Bearer {plaintext}"}

    base = f"/t/{province.slug}/api/v1/dossiers"
    integration = await key(Role.INTEGRATION)

    async def intake(agency):
        response = await client.post(
            base,
            json={
                "procedure_code": "1.000894",
                "agency_code": agency,
                "applicant": {"full_name": "Trần Văn Bình", "phone": "0912 345 678"},
            },
            headers=integration,
        )
        assert response.status_code == 201, response.text
        return response.json()["code"]

    return province, base, key, intake


async def test_a_commune_officer_cannot_see_or_move_another_communes_dossier(client, communes):
    _, base, key, intake = communes
    an = await key(Role.OFFICER, "TT.X.AN")
    hoa_code = await intake("TT.X.HOA")
    an_code = await intake("TT.X.AN")

    assert (await client.get(f"{base}/{hoa_code}", headers=an)).status_code == 404
    assert (await client.get(f"{base}/{hoa_code}/receipt", headers=an)).status_code == 404
    moved = await client.post(f"{base}/{hoa_code}/events", json={"action": "start"}, headers=an)
    assert moved.status_code == 404
    listed = (await client.get(base, headers=an)).json()
    assert [d["code"] for d in listed["items"]] == [an_code]
    assert listed["total"] == 1

    assert (await client.get(f"{base}/{an_code}", headers=an)).status_code == 200
    started = await client.post(f"{base}/{an_code}/events", json={"action": "start"}, headers=an)
    assert started.status_code == 200, started.text


async def test_a_commune_officer_cannot_take_in_for_another_commune(client, communes):
    _, base, key, _ = communes
    an = await key(Role.OFFICER, "TT.X.AN")
    response = await client.post(
        base,
        json={
            "procedure_code": "1.000894",
            "agency_code": "TT.X.HOA",
            "applicant": {"full_name": "Trần Văn Bình", "phone": "0912 345 678"},
        },
        headers=an,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "agency_code"


async def test_a_province_officer_sees_the_communes_below(client, communes):
    _, base, key, intake = communes
    province_officer = await key(Role.OFFICER, "TT")
    codes = {await intake("TT.X.HOA"), await intake("TT.X.AN")}
    listed = (await client.get(base, headers=province_officer)).json()
    assert {d["code"] for d in listed["items"]} == codes


async def test_a_viewer_reads_but_cannot_write(client, communes):
    province, base, key, intake = communes
    viewer = await key(Role.VIEWER, "TT.X.AN")
    code = await intake("TT.X.AN")
    assert (await client.get(f"{base}/{code}", headers=viewer)).status_code == 200
    assert (await client.get(base, headers=viewer)).status_code == 200
    moved = await client.post(f"{base}/{code}/events", json={"action": "start"}, headers=viewer)
    assert moved.status_code == 403
    keys = await client.get(f"/t/{province.slug}/api/v1/keys", headers=viewer)
    assert keys.status_code == 403


async def test_an_officer_key_names_an_existing_agency(client, communes):
    province, _, key, _ = communes
    admin = await key(Role.ADMIN)
    path = f"/t/{province.slug}/api/v1/keys"
    bad = await client.post(path, json={"role": "officer", "agency_code": "NOPE"}, headers=admin)
    assert bad.status_code == 422
    good = await client.post(
        path, json={"role": "officer", "agency_code": "TT.X.AN"}, headers=admin
    )
    assert good.status_code == 201 and good.json()["agency_code"] == "TT.X.AN"
    wrong_role = await client.post(
        path, json={"role": "integration", "agency_code": "TT.X.AN"}, headers=admin
    )
    assert wrong_role.status_code == 422
