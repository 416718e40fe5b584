"""What a citizen does outside the chat: subscribe from the tracking page, leave with the
email's one-click link; and a bulk send never holds up another province's dossier notice."""

import asyncio
import secrets
import time
from urllib.parse import urlsplit

from sqlalchemy import func, select

from motcua.broadcasts.models import Subscription
from motcua.broadcasts.service import SubscriptionService
from motcua.notices.channel import Address
from motcua_channel_email.standin import SmtpStandIn
from tests.broadcasts.conftest import NO_QUIET, wait_for
from tests.notices.test_drills import env_refs

FLAKY = {"flaky": {}, **NO_QUIET}


async def test_the_applicant_subscribes_and_unsubscribes_from_the_tracking_page(client, office, db):
    desk = await office(["flaky"], FLAKY)
    dossier = await desk.intake(phone="0912345678")
    key = dossier["tracking_url"].split("k=")[1]
    page = f"/t/{desk.province.slug}/track/{dossier['code']}"
    shown = await client.get(f"{page}?k={key}")
    assert 'action="/t/' in shown.text and "/subscription?k=" in shown.text

    done = await client.post(
        f"{page}/subscription?k={key}", data={"topic": "tin tuc", "area": "an binh"}
    )
    assert done.status_code == 200, done.text
    assert "Đã đăng ký nhận tin: Tin tức (Xã An Bình)." in done.text
    unknown = await client.post(f"{page}/subscription?k={key}", data={"topic": "thể thao"})
    assert unknown.status_code == 422 and "Chính sách mới" in unknown.text
    wrong = await client.post(f"{page}/subscription?k=not-the-key", data={"topic": "tin tức"})
    assert wrong.status_code == 404

    api = f"/t/{desk.province.slug}/api/v1/track/{dossier['code']}/subscriptions?k={key}"
    left = await client.post(api, json={"action": "unsubscribe", "topic": "Tin tức"})
    assert left.status_code == 200, left.text
    assert left.json()["current"] == [] and left.json()["message"].startswith("Đã hủy nhận tin")
    async with db.tenant_session(desk.province.id) as session:
        assert await session.scalar(select(func.count()).select_from(Subscription)) == 0


async def test_the_emails_one_click_link_unsubscribes_and_a_forged_one_is_refused(
    client, office, db, workers, monkeypatch
):
    async with SmtpStandIn() as smtp:
        tag = secrets.token_hex(3)
        settings = env_refs(
            f"b{tag}",
            smtp.channel_settings(from_name="Tỉnh Thử", from_address="tin@tinhthu.gov.vn"),
            monkeypatch,
        )
        desk = await office(["email"], {"email": settings, **NO_QUIET})
        async with db.tenant_session(desk.province.id) as session:
            service = SubscriptionService(session)
            await service.subscribe(Address(email="binh@example.vn"), "tin tức", "an binh")
            await service.subscribe(Address(email="binh@example.vn"), "tin tức", None)
            await service.subscribe(Address(email="lan@example.vn"), "tin tức", None)
            await session.commit()
        response = await client.post(
            f"{desk.base}/broadcasts",
            headers=desk.admin,
            json={"topic": "tin-tuc", "text": "Lịch nghỉ Tết Nguyên đán."},
        )
        assert response.status_code == 201, response.text
        mails = await smtp.wait_for(2, timeout=20)
    by_address = {mail.rcpt_tos[0]: mail for mail in mails}
    binh = by_address["binh@example.vn"]  # two subscriptions, one email
    assert "Lịch nghỉ Tết Nguyên đán." in binh.text
    assert binh.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = binh.message["List-Unsubscribe"].strip("<>")
    path = urlsplit(link).path
    assert path.startswith(f"/t/{desk.province.slug}/unsubscribe/")

    # A scanner opening the link unsubscribes nobody; the page offers the button.
    page = await client.get(path)
    assert page.status_code == 200 and "Hủy nhận tin" in page.text
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    refused = await client.post(forged, data={"List-Unsubscribe": "One-Click"})
    assert refused.status_code == 404
    other = by_address["lan@example.vn"].message["List-Unsubscribe"].strip("<>")
    swapped = urlsplit(other).path.split(".")[0] + "." + path.split(".")[1]
    assert (await client.post(swapped, data={"List-Unsubscribe": "One-Click"})).status_code == 404

    done = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Đã hủy nhận tin" in done.text
    again = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200  # a second click finds nothing more to do
    async with db.tenant_session(desk.province.id) as session:
        left = (await session.scalars(select(Subscription.address_key))).all()
    assert left == ["email:lan@example.vn"]


async def test_a_bulk_send_in_one_province_never_holds_up_anothers_dossier_notice(
    client, office, subscribers, workers
):
    """The notices issue's drill: thousands of broadcast notices of one province on the
    bulk lane while a dossier taken in by another reaches the provider within seconds."""
    busy = await office(["flaky"], {**FLAKY, "limits": {"flaky": {"per_second": 100_000}}})
    await subscribers(busy.province, 5000)
    sent = await client.post(
        f"{busy.base}/broadcasts",
        headers=busy.admin,
        json={"topic": "tin-tuc", "text": "Thông báo chung của tỉnh."},
    )
    assert sent.status_code == 201, sent.text
    ident = sent.json()["id"]

    async def under_way():
        out = (await client.get(f"{busy.base}/broadcasts/{ident}", headers=busy.admin)).json()
        assert out["counts"]["sent"] >= 200, out["counts"]
        return out

    await wait_for(under_way, timeout=60, every=0.5)
    calm = await office(["flaky"], FLAKY)
    started = time.monotonic()
    dossier = await calm.intake()

    async def delivered():
        [notice] = await calm.notices(dossier["code"])
        assert notice["status"] == "sent", notice
        return notice

    await wait_for(delivered, timeout=10, every=0.05)
    elapsed = time.monotonic() - started
    out = (await client.get(f"{busy.base}/broadcasts/{ident}", headers=busy.admin)).json()
    assert out["counts"]["waiting"] > 0 or out["status"] == "sending"  # still going
    assert elapsed < 5, f"the dossier notice took {elapsed:.1f} s"
    await client.post(f"{busy.base}/broadcasts/{ident}/cancel", headers=busy.admin)
    await asyncio.sleep(0)
