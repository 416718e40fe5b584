"""Sessions follow the staff record: deactivation ends them at once, a refresh takes the new
role and agency; a one-time code works once."""

import time
import uuid

from sqlalchemy import select

from motcua.auth import totp
from motcua.auth.models import Role, SignInSession, Staff
from tests.auth.test_signin import PASSWORD, staff_member


async def signed_in_staff(client, onboard, make_key, role="officer"):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    email = await staff_member(client, base, admin, role=role)
    listed = (await client.get(f"{base}/staff", headers=admin)).json()["items"]
    staff_id = next(s["id"] for s in listed if s["email"] == email)
    return p, base, admin, email, staff_id


async def sign_in(client, base, email, code=None):
    body = {"email": email, "password": PASSWORD} | ({"code": code} if code else {})
    return await client.post(f"{base}/auth/password", json=body)


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_deactivating_a_staff_member_ends_their_open_sessions_at_once(
    client, onboard, make_key, db
):
    _, base, admin, email, staff_id = await signed_in_staff(client, onboard, make_key)
    desk, phone = (await sign_in(client, base, email)).json(), (await sign_in(client, base, email))
    phone = phone.json()
    for tokens in (desk, phone):
        assert (await client.get(f"{base}/auth/me", headers=bearer(tokens))).status_code == 200

    gone = await client.delete(f"{base}/staff/{staff_id}", headers=admin)
    assert gone.status_code == 200 and gone.json()["active"] is False

    for tokens in (desk, phone):
        assert (await client.get(f"{base}/auth/me", headers=bearer(tokens))).status_code == 401
        refresh = {"refresh_token": tokens["refresh_token"]}
        assert (await client.post(f"{base}/auth/refresh", json=refresh)).status_code == 401
    assert (await sign_in(client, base, email)).status_code == 401
    async with db.platform_session() as session:
        reasons = (
            await session.scalars(
                select(SignInSession.revoked_reason).where(
                    SignInSession.subject == f"staff:{staff_id}"
                )
            )
        ).all()
    assert reasons == ["staff deactivated", "staff deactivated"]


async def test_a_refresh_takes_the_new_role_and_agency_of_the_staff_record(
    client, onboard, make_key
):
    _, base, admin, email, staff_id = await signed_in_staff(client, onboard, make_key)
    tokens = (await sign_in(client, base, email)).json()
    changed = await client.put(
        f"{base}/staff/{staff_id}/role",
        headers=admin,
        json={"role": "viewer", "agency_code": "TT.X.HOA"},
    )
    assert changed.status_code == 200, changed.text
    unknown = await client.put(
        f"{base}/staff/{staff_id}/role", headers=admin, json={"role": "officer", "agency_code": "X"}
    )
    assert unknown.status_code == 422
    # The access token in hand keeps what it says until it expires or is refreshed.
    me = (await client.get(f"{base}/auth/me", headers=bearer(tokens))).json()
    assert (me["role"], me["agency_code"]) == ("officer", "TT.X.AN")

    fresh = await client.post(
        f"{base}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert fresh.status_code == 200, fresh.text
    me = (await client.get(f"{base}/auth/me", headers=bearer(fresh.json()))).json()
    assert (me["role"], me["agency_code"]) == ("viewer", "TT.X.HOA")
    write = await client.post(
        f"{base}/dossiers/X/events", headers=bearer(fresh.json()), json={"action": "start"}
    )
    assert write.status_code == 403


async def test_a_reactivated_staff_member_signs_in_again_but_old_sessions_stay_ended(
    client, onboard, make_key
):
    _, base, admin, email, staff_id = await signed_in_staff(client, onboard, make_key)
    before = (await sign_in(client, base, email)).json()
    assert (await client.delete(f"{base}/staff/{staff_id}", headers=admin)).status_code == 200
    officer = {"Authorization": f"Bearer {before['access_token']}"}
    refused = await client.post(f"{base}/staff/{staff_id}/reactivate", headers=officer)
    assert refused.status_code in (401, 403)  # not theirs to do

    back = await client.post(f"{base}/staff/{staff_id}/reactivate", headers=admin)
    assert back.status_code == 200 and back.json()["active"] is True
    again = await sign_in(client, base, email)
    assert again.status_code == 200
    assert (await client.get(f"{base}/auth/me", headers=bearer(again.json()))).status_code == 200
    assert (await client.get(f"{base}/auth/me", headers=bearer(before))).status_code == 401
    twice = await client.post(f"{base}/staff/{staff_id}/reactivate", headers=admin)
    assert twice.status_code == 409
    assert twice.headers["content-type"].startswith("application/problem+json")
    unknown = await client.post(f"{base}/staff/{uuid.uuid4()}/reactivate", headers=admin)
    assert unknown.status_code == 404


async def test_an_account_deactivated_behind_the_sessions_back_cannot_refresh(
    client, onboard, make_key, db
):
    p, base, _, email, staff_id = await signed_in_staff(client, onboard, make_key)
    tokens = (await sign_in(client, base, email)).json()
    async with db.tenant_session(p.id) as session:
        (await session.get(Staff, (p.id, uuid.UUID(staff_id)))).active = False
        await session.commit()

    refused = await client.post(
        f"{base}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refused.status_code == 401
    assert "deactivated" in refused.json()["detail"]
    # The session ended with it: its access token is refused from now on.
    assert (await client.get(f"{base}/auth/me", headers=bearer(tokens))).status_code == 401


async def test_a_one_time_code_is_refused_the_second_time_within_its_window(
    client, onboard, make_key
):
    _, base, _, email, _ = await signed_in_staff(client, onboard, make_key)
    tokens = (await sign_in(client, base, email)).json()
    secret = (await client.post(f"{base}/auth/totp", headers=bearer(tokens))).json()["secret"]
    code = totp.code_at(secret, time.time())
    confirmed = await client.post(
        f"{base}/auth/totp/confirm", headers=bearer(tokens), json={"code": code}
    )
    assert confirmed.status_code == 200, confirmed.text

    # The code that confirmed the set-up has been seen: it does not sign anyone in.
    assert (await sign_in(client, base, email, code)).status_code == 401
    following = totp.code_at(secret, time.time() + totp.STEP)  # the next step's, accepted
    assert (await sign_in(client, base, email, following)).status_code == 200
    replayed = await sign_in(client, base, email, following)
    assert replayed.status_code == 401
    assert totp.REMEMBER_SECONDS == 90


def test_a_code_is_matched_to_its_own_time_step():
    secret = totp.new_secret()
    now = 1_700_000_015.0
    assert totp.matching_step(secret, totp.code_at(secret, now), now) == int(now // 30)
    assert totp.matching_step(secret, totp.code_at(secret, now - 30), now) == int(now // 30) - 1
    assert totp.matching_step(secret, totp.code_at(secret, now - 60), now) is None


def test_a_code_in_other_characters_is_simply_wrong():
    secret = totp.new_secret()
    now = 1_700_000_015.0
    fullwidth = totp.code_at(secret, now).translate({ord("0") + d: 0xFF10 + d for d in range(10)})
    assert totp.matching_step(secret, fullwidth, now) is None


async def test_a_cookie_refresh_with_a_garbled_csrf_header_is_forbidden(client, onboard, make_key):
    _, base, _, email, _ = await signed_in_staff(client, onboard, make_key)
    assert (await sign_in(client, base, email)).status_code == 200  # the cookies, in the jar
    garbled = await client.post(f"{base}/auth/refresh", headers={"X-CSRF-Token": "é".encode()})
    assert garbled.status_code == 403, garbled.text
    assert garbled.headers["content-type"].startswith("application/problem+json")
    assert "X-CSRF-Token" in garbled.json()["detail"]
    # The refresh token was not spent: with the right header, the cookie still refreshes.
    csrf = {"X-CSRF-Token": client.cookies["motcua_csrf"]}
    assert (await client.post(f"{base}/auth/refresh", headers=csrf)).status_code == 200


async def test_a_refresh_token_presented_at_another_province_is_refused_untouched(
    client, onboard, make_key
):
    _, base, _, email, _ = await signed_in_staff(client, onboard, make_key)
    other = await onboard()
    tokens = (await sign_in(client, base, email)).json()
    refresh = {"refresh_token": tokens["refresh_token"]}
    elsewhere = await client.post(f"/t/{other.slug}/api/v1/auth/refresh", json=refresh)
    assert elsewhere.status_code == 401 and "another province" in elsewhere.json()["detail"]
    at_platform = await client.post("/api/v1/auth/refresh", json=refresh)
    assert at_platform.status_code == 401
    # Still good where it belongs: not spent, and not taken for a reused token.
    home = await client.post(f"{base}/auth/refresh", json=refresh)
    assert home.status_code == 200, home.text


async def test_staff_of_a_suspended_province_cannot_sign_in(client, onboard, make_key):
    p, base, _, email, _ = await signed_in_staff(client, onboard, make_key)
    tokens = (await sign_in(client, base, email)).json()
    operator = {"Authorization": f"Bearer {await make_key(Role.OPERATOR)}"}
    platform = f"/api/v1/platform/tenants/{p.slug}"
    assert (await client.post(f"{platform}/suspend", headers=operator)).status_code == 200
    try:
        refused = await sign_in(client, base, email)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "suspended" in refused.json()["detail"]
        refresh = {"refresh_token": tokens["refresh_token"]}
        assert (await client.post(f"{base}/auth/refresh", json=refresh)).status_code == 403
        assert (await client.get(f"{base}/auth/oidc/login")).status_code == 403
    finally:
        assert (await client.post(f"{platform}/resume", headers=operator)).status_code == 200
    assert (await sign_in(client, base, email)).status_code == 200
