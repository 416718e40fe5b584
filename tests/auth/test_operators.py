"""Operators sign in at the platform's own identity provider (MOTCUA_OPERATOR_OIDC_*)."""

import secrets

import httpx
import msgspec
import pytest

from motcua.app import create_app
from motcua.auth.models import Role
from motcua.auth.oidc import BROWSER_COOKIE, browser_binding
from tests.auth.conftest import sign_in_with_provider
from tests.running import running


@pytest.fixture
async def platform(settings, provider):
    """The app configured with the test provider as the platform's, and a browser on it."""
    configured = msgspec.structs.replace(
        settings,
        operator_oidc_issuer=provider.issuer,
        operator_oidc_client_id=provider.client_id,
        operator_oidc_client_secret=provider.client_secret,
        operator_oidc_role_claim="roles",
        operator_oidc_role_value="operator",
        queue_name=f"motcua:test:{secrets.token_hex(4)}",
    )
    async with running(create_app(configured)) as application:
        transport = httpx.ASGITransport(app=application, client=("10.9.8.7", 40000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver.local"
        ) as browser:
            yield browser


async def platform_log(client, make_key, action):
    operator_key = {"Authorization": f"Bearer {await make_key(Role.OPERATOR)}"}
    page = await client.get(
        "/api/v1/platform/audit", headers=operator_key, params={"action": action, "limit": 10}
    )
    assert page.status_code == 200, page.text
    return page.json()["items"]


async def test_an_operator_signs_in_with_the_platforms_provider_and_operates(
    platform, provider, onboard, make_key
):
    provider.user = {**provider.user, "sub": "op-1", "roles": ["operator"]}
    done, _ = await sign_in_with_provider(platform, provider, "/api/v1")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/api/v1/auth/me"
    me = (await platform.get("/api/v1/auth/me")).json()
    assert (me["kind"], me["role"], me["subject"]) == ("operator", "operator", "operator:op-1")
    assert me["tenant_id"] is None

    # The session opens the platform's routes, never a province's staff routes.
    assert (await platform.get("/api/v1/platform/tenants")).status_code == 200
    province = await onboard()
    staff_route = await platform.get(f"/t/{province.slug}/api/v1/dossiers")
    assert staff_route.status_code == 403

    # Refresh on the platform (with the CSRF header the cookie needs), not at a province.
    csrf = {"X-CSRF-Token": platform.cookies["motcua_csrf"]}
    refreshed = await platform.post("/api/v1/auth/refresh", headers=csrf)
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()
    at_province = await platform.post(
        f"/t/{province.slug}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert at_province.status_code == 401

    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await platform.post("/api/v1/auth/sign-out", headers=bearer)).status_code == 200
    assert (await platform.get("/api/v1/auth/me", headers=bearer)).status_code == 401

    subjects = {
        action: [row["subject"] for row in await platform_log(platform, make_key, action)]
        for action in ("auth.sign_in", "auth.sign_out")
    }
    assert "operator:op-1" in subjects["auth.sign_in"]
    assert "operator:op-1" in subjects["auth.sign_out"]


async def test_a_token_whose_role_claim_is_not_operator_is_refused(platform, provider, make_key):
    provider.user = {**provider.user, "sub": "op-2", "roles": ["officer", "admin"]}
    done, _ = await sign_in_with_provider(platform, provider, "/api/v1")
    assert done.status_code == 403, done.text
    assert "operator" in done.json()["detail"]
    assert "motcua_session" not in platform.cookies
    assert (await platform.get("/api/v1/auth/me")).status_code == 401
    failed = await platform_log(platform, make_key, "auth.sign_in_failed")
    assert any("operator" in (row["detail"] or {}).get("reason", "") for row in failed)

    provider.user = {**provider.user, "roles": "operator"}  # a single value, not a list
    done, _ = await sign_in_with_provider(platform, provider, "/api/v1")
    assert done.status_code == 303, done.text


@pytest.mark.parametrize("knob", ["forge_next", "expire_next", "wrong_audience"])
async def test_an_operators_bad_id_token_is_refused(platform, provider, knob):
    provider.user = {**provider.user, "roles": ["operator"]}
    setattr(provider, knob, "someone-else" if knob == "wrong_audience" else True)
    done, _ = await sign_in_with_provider(platform, provider, "/api/v1")
    assert done.status_code == 401, done.text
    assert "motcua_session" not in platform.cookies


async def test_a_sign_in_started_for_a_province_cannot_make_an_operator(
    platform, provider, onboard, make_key
):
    province = await onboard()
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, province)}"}
    base = f"/t/{province.slug}/api/v1"
    put = await platform.put(
        f"{base}/auth/provider",
        headers=admin,
        json={"issuer": provider.issuer, "client_id": provider.client_id,
              "client_secret": "env:MOTCUA_TEST_OIDC_SECRET"},
    )  # fmt: skip
    assert put.status_code == 200, put.text
    provider.user = {**provider.user, "roles": ["operator"]}
    start = await platform.get(f"{base}/auth/oidc/login")
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(start.headers["location"])
    back = httpx.URL(at_provider.headers["location"])
    # The province's code and state, brought to the platform's callback, even with the
    # browser's binding cookie where the platform's callback would read it.
    platform.cookies.set(BROWSER_COOKIE, browser_binding(back.params["state"]))
    hijacked = await platform.get("/api/v1/auth/oidc/callback", params=dict(back.params))
    assert hijacked.status_code == 400
    assert "another province" in hijacked.json()["detail"]
    assert "motcua_session" not in platform.cookies
