"""Staff sign-in over HTTP: a real OpenID provider on loopback, staff passwords, sessions."""

import time

import httpx
import msgspec
import pytest

from motcua.app import create_app
from motcua.auth import totp
from motcua.auth.models import Role
from motcua.auth.oidc import BROWSER_COOKIE, browser_binding
from tests.auth.conftest import provider_redirect, sign_in_with_provider
from tests.running import running

PASSWORD = "mật-khẩu-đủ-dài"


@pytest.fixture
async def province(client, onboard, make_key, provider):
    p = await onboard()
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    base = f"/t/{p.slug}/api/v1"
    response = await client.put(
        f"{base}/auth/provider",
        headers=admin,
        json={
            "issuer": provider.issuer,
            "client_id": provider.client_id,
            "client_secret": "env:MOTCUA_TEST_OIDC_SECRET",
            "role_claim": "roles",
            "role_map": {"motcua-officer": "officer", "motcua-viewer": "viewer"},
            "agency_claim": "agency",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["client_secret"] == "env:MOTCUA_TEST_OIDC_SECRET"
    return p, base, admin


async def test_an_officer_signs_in_with_the_provinces_provider(client, provider, province):
    _, base, admin = province
    provider.user = {**provider.user, "roles": ["motcua-officer"], "agency": "TT.X.AN"}
    done, _ = await sign_in_with_provider(client, provider, base)
    assert done.status_code == 303, done.text
    set_cookies = done.headers.get_list("set-cookie")
    session = next(c for c in set_cookies if c.startswith("motcua_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    me = await client.get(f"{base}/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "officer" and me.json()["agency_code"] == "TT.X.AN"
    assert me.json()["display"] == "Lê Văn An"
    # The session cookie reads dossiers; a write without the CSRF header is refused.
    assert (await client.get(f"{base}/dossiers")).status_code == 200
    write = await client.post(f"{base}/dossiers/X/events", json={"action": "start"})
    assert write.status_code == 403
    csrf = client.cookies["motcua_csrf"]
    write = await client.post(
        f"{base}/dossiers/X/events", json={"action": "start"}, headers={"X-CSRF-Token": csrf}
    )
    assert write.status_code == 404  # past the guard: no such dossier
    # The sign-in is in the province's log, for its admins.
    [signed_in] = await audit_log(client, base, admin, "auth.sign_in")
    assert signed_in["target"] == "oidc" and signed_in["display"] == "Lê Văn An"


async def audit_log(client, base, admin, action):
    page = await client.get(f"{base}/audit", headers=admin, params={"action": action})
    assert page.status_code == 200, page.text
    return page.json()["items"]


async def test_a_replayed_state_is_refused_and_audited(client, provider, province):
    _, base, admin = province
    provider.user = {**provider.user, "roles": ["motcua-officer"]}
    done, query = await sign_in_with_provider(client, provider, base)
    assert done.status_code == 303
    assert BROWSER_COOKIE not in client.cookies  # the callback took it back
    # Even from the browser that started it, with its cookie: a state works once.
    state = query["state"][0]
    client.cookies.set(BROWSER_COOKIE, browser_binding(state))
    again = await client.get(
        f"{base}/auth/oidc/callback", params={"code": query["code"][0], "state": state}
    )
    assert again.status_code == 400
    [failed] = await audit_log(client, base, admin, "auth.sign_in_failed")
    assert "already used" in failed["detail"]["reason"] and failed["target"] == "oidc"


async def test_a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused(
    client, provider, province, app
):
    """Login CSRF: someone's own sign-in, finished in another person's browser."""
    import httpx

    _, base, admin = province
    provider.user = {**provider.user, "roles": ["motcua-officer"]}
    path, query = await provider_redirect(client, provider, base)
    transport = httpx.ASGITransport(app=app, client=("10.66.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as victim:
        lured = await victim.get(path, params=query)
        assert lured.status_code == 400, lured.text
        assert "not started in this browser" in lured.json()["detail"]
        assert "motcua_session" not in victim.cookies
        victim.cookies.set(BROWSER_COOKIE, browser_binding("another-state"))
        assert (await victim.get(path, params=query)).status_code == 400
    failed = await audit_log(client, base, admin, "auth.sign_in_failed")
    assert len(failed) == 2 and all("browser" in f["detail"]["reason"] for f in failed)
    assert {f["client"] for f in failed} == {"10.66.0.1"}
    # The refusals did not spend the state: the browser that started finishes its sign-in.
    assert (await client.get(path, params=query)).status_code == 303


async def test_a_callback_with_a_garbled_browser_cookie_is_refused_as_a_bad_request(
    client, provider, province, app
):
    _, base, _ = province
    provider.user = {**provider.user, "roles": ["motcua-officer"]}
    path, query = await provider_redirect(client, provider, base)
    transport = httpx.ASGITransport(app=app, client=("10.66.0.2", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as other:
        garbled = await other.get(
            path, params=query, headers={"cookie": f"{BROWSER_COOKIE}=é".encode()}
        )
    assert garbled.status_code == 400, garbled.text
    assert garbled.headers["content-type"].startswith("application/problem+json")
    assert "not started in this browser" in garbled.json()["detail"]


@pytest.mark.parametrize("knob", ["forge_next", "expire_next", "wrong_audience"])
async def test_a_bad_id_token_is_refused(client, provider, province, knob):
    _, base, _ = province
    provider.user = {**provider.user, "roles": ["motcua-officer"]}
    setattr(provider, knob, "someone-else" if knob == "wrong_audience" else True)
    done, _ = await sign_in_with_provider(client, provider, base)
    assert done.status_code == 401, done.text
    assert "motcua_session" not in client.cookies


async def test_a_rotated_provider_key_is_fetched_again_at_most_once_a_minute(
    client, provider, province, monkeypatch
):
    from motcua.auth import oidc

    _, base, _ = province
    provider.user = {**provider.user, "roles": ["motcua-officer"]}
    assert (await sign_in_with_provider(client, provider, base))[0].status_code == 303
    fetched = provider.jwks_fetches
    provider.rotate()
    # A key id never seen, within the minute of the last read: refused, the provider not
    # asked (a stream of tokens under invented key ids looks the same).
    assert (await sign_in_with_provider(client, provider, base))[0].status_code == 401
    assert provider.jwks_fetches == fetched
    monkeypatch.setattr(oidc, "REFETCH_AFTER", 0.0)  # the minute has passed
    assert (await sign_in_with_provider(client, provider, base))[0].status_code == 303
    assert provider.jwks_fetches == fetched + 1


async def test_a_token_for_several_audiences_must_name_us_as_its_authorized_party(
    client, provider, province
):
    _, base, _ = province
    provider.user = {**provider.user, "roles": ["motcua-officer"]}
    provider.extra_audience = "another-app"
    assert (await sign_in_with_provider(client, provider, base))[0].status_code == 401
    provider.extra_audience, provider.azp = "another-app", "another-app"
    assert (await sign_in_with_provider(client, provider, base))[0].status_code == 401
    provider.extra_audience, provider.azp = "another-app", provider.client_id
    assert (await sign_in_with_provider(client, provider, base))[0].status_code == 303


async def test_a_key_replaced_under_its_kid_is_fetched_again_at_most_once_a_minute(
    client, provider, province, monkeypatch
):
    from joserfc.jwk import RSAKey

    from motcua.auth import oidc

    _, base, _ = province
    provider.user = {**provider.user, "roles": ["motcua-officer"]}
    assert (await sign_in_with_provider(client, provider, base))[0].status_code == 303
    provider.key = RSAKey.generate_key(2048, parameters={"kid": provider.key.kid}, private=True)
    fetched = provider.jwks_fetches
    # Within the minute of the last read: refused, the provider not asked (a forged token
    # looks the same).
    assert (await sign_in_with_provider(client, provider, base))[0].status_code == 401
    assert provider.jwks_fetches == fetched
    monkeypatch.setattr(oidc, "REFETCH_AFTER", 0.0)  # the minute has passed
    assert (await sign_in_with_provider(client, provider, base))[0].status_code == 303
    assert provider.jwks_fetches == fetched + 1


async def test_nobody_gets_in_without_a_mapped_role(client, provider, province):
    _, base, _ = province
    provider.user = {**provider.user, "roles": ["someone"]}
    done, _ = await sign_in_with_provider(client, provider, base)
    assert done.status_code == 403


async def staff_member(client, base, admin, role="officer", agency="TT.X.AN"):
    email = f"can-bo-{time.monotonic_ns()}@tinh.vn"
    created = await client.post(
        f"{base}/staff",
        headers=admin,
        json={"email": email, "name": "Phạm Thị Cúc", "role": role, "agency_code": agency},
    )
    assert created.status_code == 201, created.text
    invitation = await client.post(f"{base}/staff/{created.json()['id']}/invitation", headers=admin)
    token = invitation.json()["link"].split("#", 1)[1]
    accepted = await client.post(
        f"{base}/auth/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    again = await client.post(
        f"{base}/auth/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert again.status_code == 404  # single use
    return email


async def test_a_staff_account_signs_in_refreshes_and_signs_out(client, onboard, make_key):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    email = await staff_member(client, base, admin)
    signed = await client.post(f"{base}/auth/password", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    tokens = signed.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get(f"{base}/auth/me", headers=bearer)).json()["role"] == "officer"

    fresh = await client.post(
        f"{base}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert fresh.status_code == 200, fresh.text
    # The old refresh token again: the session ends for everyone holding it.
    reused = await client.post(
        f"{base}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert reused.status_code == 401
    newer = await client.post(
        f"{base}/auth/refresh", json={"refresh_token": fresh.json()["refresh_token"]}
    )
    assert newer.status_code == 401
    new_bearer = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert (await client.get(f"{base}/auth/me", headers=new_bearer)).status_code == 401

    again = await client.post(f"{base}/auth/password", json={"email": email, "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {again.json()['access_token']}"}
    assert (await client.post(f"{base}/auth/sign-out", headers=bearer)).status_code == 200
    assert (await client.get(f"{base}/auth/me", headers=bearer)).status_code == 401
    refused = await client.post(
        f"{base}/auth/refresh", json={"refresh_token": again.json()["refresh_token"]}
    )
    assert refused.status_code == 401


async def test_repeated_wrong_passwords_lock_the_account(client, onboard, make_key):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    email = await staff_member(client, base, admin)
    for _ in range(4):
        wrong = await client.post(f"{base}/auth/password", json={"email": email, "password": "sai"})
        assert wrong.status_code == 401
    locked = await client.post(f"{base}/auth/password", json={"email": email, "password": "sai"})
    assert locked.status_code == 423
    right = await client.post(f"{base}/auth/password", json={"email": email, "password": PASSWORD})
    assert right.status_code == 423  # even the right password waits out the lock


async def test_one_time_codes_once_confirmed_are_required(client, onboard, make_key):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    email = await staff_member(client, base, admin)
    signed = (
        await client.post(f"{base}/auth/password", json={"email": email, "password": PASSWORD})
    ).json()
    bearer = {"Authorization": f"Bearer {signed['access_token']}"}
    setup = (await client.post(f"{base}/auth/totp", headers=bearer)).json()
    assert setup["uri"].startswith("otpauth://totp/")
    wrong = await client.post(f"{base}/auth/totp/confirm", headers=bearer, json={"code": "000000"})
    code = totp.code_at(setup["secret"], time.time())
    if code != "000000":
        assert wrong.status_code == 401
    ok = await client.post(f"{base}/auth/totp/confirm", headers=bearer, json={"code": code})
    assert ok.status_code == 200 and ok.json()["totp_enabled"]
    without = await client.post(
        f"{base}/auth/password", json={"email": email, "password": PASSWORD}
    )
    assert without.status_code == 401
    with_code = await client.post(
        f"{base}/auth/password",
        json={
            "email": email,
            "password": PASSWORD,
            # The next step's code: the one that confirmed was used once already.
            "code": totp.code_at(setup["secret"], time.time() + totp.STEP),
        },
    )
    assert with_code.status_code == 200, with_code.text


def test_totp_matches_rfc_6238_test_vectors():
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(secret, 59) == "287082"
    assert totp.code_at(secret, 1111111109) == "081804"


async def test_a_viewer_signed_in_reads_but_cannot_write(client, onboard, make_key):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    email = await staff_member(client, base, admin, role="viewer")
    signed = (
        await client.post(f"{base}/auth/password", json={"email": email, "password": PASSWORD})
    ).json()
    bearer = {"Authorization": f"Bearer {signed['access_token']}"}
    assert (await client.get(f"{base}/dossiers", headers=bearer)).status_code == 200
    write = await client.post(f"{base}/dossiers/X/events", headers=bearer, json={"action": "start"})
    assert write.status_code == 403


async def test_a_sign_in_opened_on_another_host_starts_again_on_the_platforms(settings, onboard):
    """The provider comes back to the platform's host: the browser's binding cookie must be
    set there, not on the province's own domain."""
    import secrets

    import httpx
    import msgspec

    from motcua.app import create_app
    from tests.running import running

    p = await onboard()
    configured = msgspec.structs.replace(
        settings,
        public_base_url="http://motcua.example.vn",
        queue_name=f"motcua:test:{secrets.token_hex(4)}",
    )
    async with running(create_app(configured)) as application:
        transport = httpx.ASGITransport(app=application, client=("10.9.8.6", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
            start = await c.get(f"/t/{p.slug}/api/v1/auth/oidc/login", params={"return_to": "/x"})
    assert start.status_code == 302, start.text
    assert start.headers["location"] == (
        f"http://motcua.example.vn/t/{p.slug}/api/v1/auth/oidc/login?return_to=%2Fx"
    )
    assert "motcua_oidc" not in start.headers.get("set-cookie", "")


async def test_behind_tls_every_sign_in_cookie_is_secure(settings, client, onboard, make_key):
    """With an https:// public address (the platform behind TLS), the browser sends the
    session, refresh and CSRF cookies over TLS only; without it (development), it may not."""
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    email = await staff_member(client, base, admin)
    login = {"email": email, "password": PASSWORD}
    plain = (await client.post(f"{base}/auth/password", json=login)).headers.get_list("set-cookie")
    assert plain and not any("Secure" in cookie for cookie in plain)

    behind_tls = msgspec.structs.replace(settings, public_base_url="https://motcua.example.vn")
    async with running(create_app(behind_tls)) as app:
        transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 40000))
        async with httpx.AsyncClient(
            transport=transport, base_url="https://motcua.example.vn"
        ) as tls:
            signed = await tls.post(f"{base}/auth/password", json=login)
    assert signed.status_code == 200, signed.text
    cookies = {c.split("=", 1)[0]: c for c in signed.headers.get_list("set-cookie")}
    assert set(cookies) == {"motcua_session", "motcua_refresh", "motcua_csrf"}
    for cookie in cookies.values():
        assert "Secure" in cookie and "SameSite=lax" in cookie


async def test_without_a_role_claim_the_staff_record_gives_role_and_agency(
    client, onboard, make_key, provider
):
    """A province whose provider carries no roles: the admin's staff record decides, found
    by the provider's verified e-mail the first time, by its subject afterwards."""
    p = await onboard()
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    base = f"/t/{p.slug}/api/v1"
    settings = {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": "env:MOTCUA_TEST_OIDC_SECRET",
    }
    assert (await client.put(f"{base}/auth/provider", headers=admin, json=settings)).is_success
    provider.user = {"sub": "u-77", "name": "Đỗ Thị Hạnh", "email": "hanh@tinh.vn"}

    done, _ = await sign_in_with_provider(client, provider, base)
    assert done.status_code == 403  # no staff record: nobody gets in without a role

    staff = {"email": "hanh@tinh.vn", "name": "Đỗ Thị Hạnh", "role": "viewer"}
    created = await client.post(
        f"{base}/staff", headers=admin, json={**staff, "agency_code": "TT.X.AN"}
    )
    assert created.status_code == 201, created.text
    provider.user = {**provider.user, "email_verified": False}
    done, _ = await sign_in_with_provider(client, provider, base)
    assert done.status_code == 403  # an unverified e-mail does not claim the record

    provider.user = {**provider.user, "email_verified": True}
    done, _ = await sign_in_with_provider(client, provider, base)
    assert done.status_code == 303, done.text
    me = (await client.get(f"{base}/auth/me")).json()
    assert (me["role"], me["agency_code"]) == ("viewer", "TT.X.AN")

    # Bound to the subject now: a changed e-mail at the provider still finds the record.
    client.cookies.clear()
    provider.user = {**provider.user, "email": "hanh.do@tinh.vn"}
    done, _ = await sign_in_with_provider(client, provider, base)
    assert done.status_code == 303, done.text
    assert (await client.get(f"{base}/auth/me")).json()["display"] == "Đỗ Thị Hạnh"
