"""Password guessing is slowed without handing strangers a way to lock staff out: lockout
per account and address, a limit per account, a limit per address on the sign-in routes."""

import contextlib
import secrets

import httpx
import pytest

from motcua.auth import accounts
from motcua.auth.models import Role
from motcua.security.limits import SIGN_IN_PER_MINUTE
from tests.auth.test_signin import PASSWORD, staff_member


@contextlib.asynccontextmanager
async def browser(app, address):
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


def somewhere():
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"


@pytest.fixture
async def account(client, onboard, make_key):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, p)}"}
    return base, admin, await staff_member(client, base, admin)


async def sign_in(c, base, email, password):
    return await c.post(f"{base}/auth/password", json={"email": email, "password": password})


async def test_a_stranger_locks_only_their_own_address_out_of_an_account(app, account):
    base, _, email = account
    async with browser(app, somewhere()) as stranger, browser(app, somewhere()) as owner:
        answers = [(await sign_in(stranger, base, email, "sai")).status_code for _ in range(6)]
        assert answers == [401, 401, 401, 401, 423, 423]
        assert (await sign_in(stranger, base, email, PASSWORD)).status_code == 423
        # The owner, elsewhere, is not locked out by someone else's guesses.
        assert (await sign_in(owner, base, email, PASSWORD)).status_code == 200


async def test_many_addresses_guessing_lock_the_account_for_everyone(app, account, monkeypatch):
    monkeypatch.setattr(accounts, "MAX_FAILURES_ANY_ADDRESS", 9)
    base, admin, email = account
    for _ in range(2):  # two addresses, each one wrong attempt short of its lockout
        async with browser(app, somewhere()) as guesser:
            for _ in range(4):
                assert (await sign_in(guesser, base, email, "sai")).status_code == 401
    async with browser(app, somewhere()) as third:
        # The ninth wrong attempt in a row, from a third address, locks the account.
        assert (await sign_in(third, base, email, "sai")).status_code == 423
    async with browser(app, somewhere()) as owner:
        assert (await sign_in(owner, base, email, PASSWORD)).status_code == 423
    async with browser(app, somewhere()) as reader:
        listed = (await reader.get(f"{base}/staff", headers=admin)).json()["items"]
    assert [s["locked_until"] is not None for s in listed if s["email"] == email] == [True]


async def test_an_admin_ends_the_lockouts_at_once_and_it_is_audited(app, account, monkeypatch):
    monkeypatch.setattr(accounts, "MAX_FAILURES_ANY_ADDRESS", 6)
    base, admin, email = account
    here, there = somewhere(), somewhere()
    async with browser(app, here) as guesser:
        for _ in range(5):
            await sign_in(guesser, base, email, "sai")
        assert (await sign_in(guesser, base, email, PASSWORD)).status_code == 423  # address
    async with browser(app, there) as elsewhere:
        assert (await sign_in(elsewhere, base, email, "sai")).status_code == 423  # account
        listed = (await elsewhere.get(f"{base}/staff", headers=admin)).json()["items"]
        [member] = [s for s in listed if s["email"] == email]
        unlocked = await elsewhere.post(f"{base}/staff/{member['id']}/unlock", headers=admin)
        assert unlocked.status_code == 200 and unlocked.json()["locked_until"] is None
        assert (await sign_in(elsewhere, base, email, PASSWORD)).status_code == 200
        log = await elsewhere.get(f"{base}/audit", params={"action": "staff.unlock"}, headers=admin)
        [row] = log.json()["items"]
        assert row["target"] == f"staff:{member['id']}"
    async with browser(app, here) as guesser:  # the address's own lockout is gone too
        assert (await sign_in(guesser, base, email, PASSWORD)).status_code == 200


async def test_accepting_a_new_invitation_ends_the_lockouts_of_the_old_password(app, account):
    base, admin, email = account
    here = somewhere()
    async with browser(app, here) as forgetful:
        for _ in range(5):
            await sign_in(forgetful, base, email, "sai")
        assert (await sign_in(forgetful, base, email, PASSWORD)).status_code == 423
        listed = (await forgetful.get(f"{base}/staff", headers=admin)).json()["items"]
        [member] = [s for s in listed if s["email"] == email]
        invited = await forgetful.post(f"{base}/staff/{member['id']}/invitation", headers=admin)
        token = invited.json()["link"].split("#", 1)[1]
        chosen = {"token": token, "password": "mật-khẩu-mới-đủ-dài"}
        accepted = await forgetful.post(f"{base}/auth/invitations/accept", json=chosen)
        assert accepted.status_code == 200, accepted.text
        # From the very address that was locked out, with the new password: at once.
        signed_in = await sign_in(forgetful, base, email, "mật-khẩu-mới-đủ-dài")
        assert signed_in.status_code == 200, signed_in.text


async def test_attempts_on_one_account_are_limited_a_minute_from_anywhere(
    app, account, monkeypatch
):
    monkeypatch.setattr(accounts, "ATTEMPTS_PER_MINUTE", 3)
    base, _, email = account
    for _ in range(3):
        async with browser(app, somewhere()) as guesser:
            assert (await sign_in(guesser, base, email, "sai")).status_code == 401
    async with browser(app, somewhere()) as fourth:
        refused = await sign_in(fourth, base, email, PASSWORD)
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(refused.headers["retry-after"]) <= 60
    # An e-mail nobody has is limited the same way: a 429 tells nothing of who exists.
    for n in range(4):
        async with browser(app, somewhere()) as guesser:
            unknown = await sign_in(guesser, base, "khong-co@tinh.vn", "sai")
        assert unknown.status_code == (401 if n < 3 else 429)


async def test_an_address_locked_out_does_not_use_up_the_accounts_allowance(
    app, account, monkeypatch
):
    monkeypatch.setattr(accounts, "ATTEMPTS_PER_MINUTE", 6)
    base, _, email = account
    async with browser(app, somewhere()) as stranger:
        for _ in range(5):
            await sign_in(stranger, base, email, "sai")
        for _ in range(10):  # refused at the door, not counted against the account
            assert (await sign_in(stranger, base, email, "sai")).status_code == 423
    async with browser(app, somewhere()) as owner:
        assert (await sign_in(owner, base, email, PASSWORD)).status_code == 200


async def test_the_sign_in_routes_are_limited_per_address_below_the_public_limit(
    app, client, onboard
):
    p = await onboard()
    base = f"/t/{p.slug}/api/v1"
    bogus = {"token": "khong-phai-loi-moi", "password": "mật-khẩu-đủ-dài"}
    async with browser(app, somewhere()) as sprayer:
        for _ in range(SIGN_IN_PER_MINUTE):
            answer = await sprayer.post(f"{base}/auth/invitations/accept", json=bogus)
            assert answer.status_code == 404
        # Every sign-in route counts together: the password route is closed to it too.
        refused = await sign_in(sprayer, base, "ai-do@tinh.vn", "sai")
        assert refused.status_code == 429
        assert refused.headers["ratelimit-limit"] == str(SIGN_IN_PER_MINUTE)
        # The public routes keep their own, larger allowance.
        assert (await sprayer.get(f"{base}/procedures")).status_code == 200
    assert SIGN_IN_PER_MINUTE < 600
    assert (await sign_in(client, base, "ai-do@tinh.vn", "sai")).status_code == 401


async def test_confirming_one_time_codes_is_limited_per_staff_member(client, account):
    base, _, email = account
    tokens = (await sign_in(client, base, email, PASSWORD)).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.post(f"{base}/auth/totp", headers=bearer)).status_code == 200
    answers = []
    for _ in range(11):
        tried = await client.post(f"{base}/auth/totp/confirm", headers=bearer, json={"code": "x"})
        answers.append(tried.status_code)
    assert answers[-1] == 429 and 429 not in answers[:10]
