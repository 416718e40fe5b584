"""Every change to staff, the province's provider, one-time codes and sessions leaves its row."""

import time
import uuid

from motcua.auth import totp
from motcua.auth.models import Role, Staff
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


async def province_with_staff(client, onboard, make_key):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    email = await staff_member(client, base, admin)
    staff_id = (await client.get(f"{base}/staff", headers=admin)).json()["items"][0]["id"]
    return base, admin, email, f"staff:{staff_id}", p


async def test_sign_ins_failures_and_lockouts_are_in_the_provinces_log(client, onboard, make_key):
    base, admin, email, subject, _ = await province_with_staff(client, onboard, make_key)
    signed = await client.post(f"{base}/auth/password", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200
    for _ in range(5):
        await client.post(f"{base}/auth/password", json={"email": email, "password": "sai"})
    await client.post(f"{base}/auth/password", json={"email": "ai@tinh.vn", "password": "sai"})

    page = await client.get(f"{base}/audit", headers=admin, params={"action": "auth."})
    rows = [(e["action"], e["subject"], e["target"], e["detail"]) for e in page.json()["items"]]
    assert rows[:3] == [
        ("auth.sign_in_failed", "anonymous", "password", {"reason": "unknown or inactive account"}),
        ("auth.locked", subject, "password", {"scope": "address"}),
        ("auth.sign_in_failed", subject, "password", {"reason": "wrong password"}),
    ]
    assert [a for a, s, _, _ in rows if s == subject].count("auth.sign_in_failed") == 5
    assert ("auth.sign_in", subject, "password", None) in rows
    assert all(e["client"].startswith("10.") for e in page.json()["items"])
    assert email not in page.text and "ai@tinh.vn" not in page.text


async def test_a_reused_or_refused_refresh_is_in_the_provinces_log(client, onboard, make_key, db):
    base, admin, email, subject, p = await province_with_staff(client, onboard, make_key)
    body = {"email": email, "password": PASSWORD}
    first = (await client.post(f"{base}/auth/password", json=body)).json()
    refresh = {"refresh_token": first["refresh_token"]}
    assert (await client.post(f"{base}/auth/refresh", json=refresh)).status_code == 200
    assert (await client.post(f"{base}/auth/refresh", json=refresh)).status_code == 401
    second = (await client.post(f"{base}/auth/password", json=body)).json()
    # Deactivated behind the session's back: its next refresh finds out, and is refused.
    async with db.tenant_session(p.id) as session:
        (await session.get(Staff, (p.id, uuid.UUID(subject.removeprefix("staff:"))))).active = False
        await session.commit()
    gone = await client.post(
        f"{base}/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert gone.status_code == 401

    rows = await audit_rows(client, base, admin)
    refresh_rows = [(a, s) for a, t, s, _ in rows if a.startswith("auth.refresh")]
    assert refresh_rows == [("auth.refresh_refused", subject), ("auth.refresh_reused", subject)]
    assert all(t.startswith("session:") for a, t, _, _ in rows if a.startswith("auth.refresh"))


async def test_choosing_a_password_through_an_invitation_is_audited(client, onboard, make_key):
    base, admin, _, subject, _ = await province_with_staff(client, onboard, make_key)
    rows = await audit_rows(client, base, admin)
    accepted = [(a, t, s) for a, t, s, _ in rows if a == "auth.invitation_accept"]
    assert accepted == [("auth.invitation_accept", subject, subject)]  # once: single use
