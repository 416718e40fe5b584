"""The page an invitation link opens: a form, without inline script, that sets a password."""

import re
from urllib.parse import urlsplit

import pytest

from motcua.auth.models import Role
from tests.auth.test_signin import PASSWORD


@pytest.fixture
async def invited(client, onboard, make_key):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    created = await client.post(
        f"{base}/staff",
        headers=admin,
        json={"email": "thu@tinh.vn", "name": "Đỗ Minh Thư", "role": "officer"},
    )
    invitation = await client.post(f"{base}/staff/{created.json()['id']}/invitation", headers=admin)
    link = urlsplit(invitation.json()["link"])
    return base, admin, link.path, link.fragment


def _form_token(page):
    return re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)


async def test_the_invitation_link_opens_a_form_that_sets_the_password(client, invited):
    base, admin, path, token = invited
    page = await client.get(path)  # the browser never sends what follows '#'
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "Đặt mật khẩu" in page.text and "Choose your password" in page.text
    assert page.text.index("Đặt mật khẩu") < page.text.index("Choose your password")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # Scripts come from files only: no inline script for the CSP to refuse.
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/static/invitation.js" defer>']
    assert (await client.get("/static/invitation.js")).status_code == 200
    assert page.headers["cache-control"] == "no-store"

    form = {"form_token": _form_token(page), "token": token, "password": PASSWORD,
            "repeat": PASSWORD}  # fmt: skip
    done = await client.post(path, data=form)
    assert done.status_code == 200, done.text
    assert "Đã đặt mật khẩu" in done.text
    signed = await client.post(
        f"{base}/auth/password", json={"email": "thu@tinh.vn", "password": PASSWORD}
    )
    assert signed.status_code == 200
    log = await client.get(f"{base}/audit", headers=admin, params={"action": "auth."})
    assert [e["action"] for e in log.json()["items"]][-1] == "auth.invitation_accept"

    assert "motcua_form" not in client.cookies  # done with: the form's cookie is dropped
    fresh = _form_token(await client.get(path))
    again = await client.post(path, data={**form, "form_token": fresh})
    assert again.status_code == 404 and "hết hạn" in again.text  # single use


async def test_a_post_from_another_site_without_the_forms_cookie_sets_nothing(client, invited):
    base, _, path, token = invited
    page = await client.get(path)
    client.cookies.delete("motcua_form")
    form = {"form_token": _form_token(page), "token": token, "password": PASSWORD,
            "repeat": PASSWORD}  # fmt: skip
    forged = await client.post(path, data=form)
    assert forged.status_code == 403
    assert "<form" in forged.text  # asked again, with a fresh form token
    refused = await client.post(
        f"{base}/auth/password", json={"email": "thu@tinh.vn", "password": PASSWORD}
    )
    assert refused.status_code == 401  # no password was set


async def test_the_form_says_what_is_wrong_in_vietnamese_then_english(client, invited):
    _, _, path, token = invited
    page = await client.get(path)
    form = {"form_token": _form_token(page), "token": token}
    differ = await client.post(path, data={**form, "password": PASSWORD, "repeat": "khác hẳn"})
    assert differ.status_code == 422 and "không giống nhau" in differ.text
    assert "not the same" in differ.text and f'value="{token}"' in differ.text
    short = await client.post(path, data={**form, "password": "ngắn", "repeat": "ngắn"})
    assert short.status_code == 422 and "ít nhất 10 ký tự" in short.text
    unknown = await client.post(
        path, data={**form, "token": "khong-co", "password": PASSWORD, "repeat": PASSWORD}
    )
    assert unknown.status_code == 404 and "<form" not in unknown.text
    typed = {**form, "token": "<script>x</script>", "password": "a", "repeat": "b"}
    echoed = await client.post(path, data=typed)
    assert "&lt;script&gt;x" in echoed.text and "<script>x" not in echoed.text
