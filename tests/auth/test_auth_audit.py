"""Every change to staff, the province's provider, one-time codes and sessions leaves its row."""

import time

from motcua.auth import totp
from motcua.auth.models import Role
from tests.auth.test_signin import PASSWORD, staff_member


async def audit_rows(client, base, admin):
    page = await client.get(f"{base}/audit", headers=admin, params={"limit": 100})
    assert page.status_code == 200, page.text
    return [(e["action"], e["target"], e["subject"], e["detail"]) for e in page.json()["items"]]


async def test_staff_and_provider_changes_by_an_admin_are_audited(client, onboard, make_key):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    created = await client.post(
        f"{base}/staff",
        headers=admin,
        json={"email": "cuc@tinh.vn", "name": "Phạm Thị Cúc", "role": "officer",
              "agency_code": "TT.X.AN"},
    )  # fmt: skip
    staff_id = created.json()["id"]
    await client.post(f"{base}/staff/{staff_id}/invitation", headers=admin)
    await client.delete(f"{base}/staff/{staff_id}", headers=admin)
    await client.post(f"{base}/staff/{staff_id}/reactivate", headers=admin)
    put = await client.put(
        f"{base}/auth/provider",
        headers=admin,
        json={"issuer": "https://sso.tinh.vn", "client_id": "motcua",
              "client_secret": "env:MOTCUA_TEST_OIDC_SECRET"},
    )  # fmt: skip
    assert put.status_code == 200, put.text
    assert (await client.delete(f"{base}/auth/provider", headers=admin)).status_code == 204

    rows = await audit_rows(client, base, admin)
    actions = [(action, target) for action, target, _, _ in rows]
    assert actions[:6] == [
        ("auth.provider.delete", "provider"),
        ("auth.provider.put", "provider"),
        ("staff.reactivate", f"staff:{staff_id}"),
        ("staff.deactivate", f"staff:{staff_id}"),
        ("staff.invite", f"staff:{staff_id}"),
        ("staff.add", f"staff:{staff_id}"),
    ]
    details = {action: detail for action, _, _, detail in rows}
    assert details["staff.add"] == {"role": "officer", "agency_code": "TT.X.AN"}
    assert "cuc@tinh.vn" not in str(rows)  # no personal data in the trail
    assert "client_secret" not in str(details["auth.provider.put"])


async def test_one_time_codes_and_sign_out_are_audited_for_the_staff_member(
    client, onboard, make_key
):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    email = await staff_member(client, base, admin)
    signed = await client.post(f"{base}/auth/password", json={"email": email, "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    setup = (await client.post(f"{base}/auth/totp", headers=bearer)).json()
    code = totp.code_at(setup["secret"], time.time())
    confirmed = await client.post(f"{base}/auth/totp/confirm", headers=bearer, json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.post(f"{base}/auth/sign-out", headers=bearer)).status_code == 200

    subject = (await client.get(f"{base}/staff", headers=admin)).json()["items"][0]["id"]
    rows = await audit_rows(client, base, admin)
    mine = [(a, t, d) for a, t, s, d in rows if s == f"staff:{subject}"]
    assert [(a, d) for a, _, d in mine[:3]] == [
        ("auth.sign_out", None),
        ("auth.totp", {"step": "confirm"}),
        ("auth.totp", {"step": "enrol"}),
    ]
    assert mine[0][1].startswith("session:")
    assert mine[1][1] == mine[2][1] == f"staff:{subject}"
    assert [a for a, _, _ in mine].count("auth.sign_out") == 1  # one row, not two
