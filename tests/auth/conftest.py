"""The test provider, and the browser's trip through it."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.auth.oidc_provider import OidcProvider


@pytest.fixture
async def provider(monkeypatch):
    monkeypatch.setenv("MOTCUA_TEST_OIDC_SECRET", "s3cret-of-the-test")
    async with OidcProvider() as running:
        yield running


async def sign_in_with_provider(client, provider, base):
    """The browser's trip: our login, the provider's authorize, back to our callback."""
    start = await client.get(f"{base}/auth/oidc/login")
    assert start.status_code == 302, start.text
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    return await client.get(f"{back.path}?{back.query}"), parse_qs(back.query)
