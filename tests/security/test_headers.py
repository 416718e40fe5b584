"""Security headers on every response; pages without inline script or style."""

import re
from pathlib import Path

import httpx
import pytest

import motcua.web

TEMPLATES = Path(motcua.web.__file__).parent / "templates"


def _strict(response):
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/static/motcua.css", "/nowhere", "/t/no-such-province/api/v1/procedures"],
)
async def test_every_kind_of_answer_carries_the_headers(client, path):
    _strict(await client.get(path))


async def test_the_tracking_page_and_api_answers_carry_them(client, onboard):
    province = await onboard()
    _strict(await client.get(f"/t/{province.slug}/track/NO-SUCH-CODE"))
    _strict(await client.get(f"/t/{province.slug}/api/v1/procedures", params={"q": "khai sinh"}))


async def test_hsts_only_over_tls(app, client):
    assert "strict-transport-security" not in (await client.get("/healthz")).headers
    # A forwarded header from a caller is not TLS: only a trusted proxy sets the scheme.
    forged = await client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in forged.headers
    transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver.local") as tls:
        answer = await tls.get("/healthz")
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


def test_no_template_has_inline_script_style_or_handlers():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
