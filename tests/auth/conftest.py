"""The test provider, and the browser's trip through it."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from motcua.auth import oidc
from tests.auth.oidc_provider import OidcProvider


@pytest.fixture
async def provider(monkeypatch):
    monkeypatch.setenv("MOTCUA_TEST_OIDC_SECRET", "s3cret-of-the-test")
    # A provider of an earlier test may have had this one's port, hence its issuer: start
    # each test without what the platform cached about it (keys, when they were read).
    for cache in (oidc._METADATA, oidc._KEYS, oidc._FETCHED):
        cache.clear()
    async with OidcProvider() as running:
        yield running


async def sign_in_with_provider(client, provider, base):
    """The browser's trip: our login, the provider's authorize, back to our callback. The
    login leaves the cookie that binds the sign-in to this browser (the client's jar)."""
    start = await client.get(f"{base}/auth/oidc/login")
    assert start.status_code == 302, start.text
    bound = next(c for c in start.headers.get_list("set-cookie") if c.startswith("motcua_oidc="))
    assert "HttpOnly" in bound and "SameSite=lax" in bound and "/oidc/callback" in bound
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    return await client.get(f"{back.path}?{back.query}"), parse_qs(back.query)


async def provider_redirect(client, provider, base):
    """The login and the provider, without coming back: (callback path, its query)."""
    start = await client.get(f"{base}/auth/oidc/login")
    assert start.status_code == 302, start.text
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(start.headers["location"])
    back = urlsplit(at_provider.headers["location"])
    return back.path, {name: values[0] for name, values in parse_qs(back.query).items()}
