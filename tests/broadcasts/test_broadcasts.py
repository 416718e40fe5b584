"""A province's broadcasts: previewed, sent now or at a time, fanned out by the real worker
as bulk notices, cancelled mid-way, counted; bad input refused writing nothing."""

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from motcua_test_channels import FlakyChannel
from sqlalchemy import func, select, update

from motcua.broadcasts.jobs import fan_out_broadcast, start_due_broadcasts
from motcua.broadcasts.models import Broadcast
from motcua.notices.connections import ProviderConnections
from motcua.notices.delivery import Deliverer
from motcua.notices.models import Notice
from motcua.notices.vault import Vault
from tests.audit.test_cli_audit import OPERATOR, province_rows
from tests.broadcasts.conftest import NO_QUIET, wait_for

FLAKY = {"flaky": {}, **NO_QUIET}


async def broadcast(client, desk, **body):
    response = await client.post(
        f"{desk.base}/broadcasts",
        headers=desk.admin,
        json={"topic": "tin-tuc", "text": "Thông báo lịch tiêm chủng tháng 12.", **body},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def counts(client, desk, ident):
    response = await client.get(f"{desk.base}/broadcasts/{ident}", headers=desk.officer)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_preview_counts_each_citizen_once_by_topic_and_area(client, office, subscribers):
    desk = await office(["flaky"], FLAKY)
    await subscribers(desk.province, 5, area="xa-an-binh")
    await subscribers(desk.province, 3, area="phuong-hoa-thuan", start=100)
    await subscribers(desk.province, 2, area="", start=200)  # the whole province
    await subscribers(desk.province, 4, topic="chinh-sach-moi", area="xa-an-binh", start=300)
    # The same citizen in two areas is one recipient.
    await subscribers(desk.province, 1, area="phuong-hoa-thuan", start=0)

    async def preview(**body):
        response = await client.post(
            f"{desk.base}/broadcasts/preview", headers=desk.admin, json=body
        )
        assert response.status_code == 200, response.text
        return response.json()

    assert (await preview(topic="tin-tuc"))["recipients"] == 10
    an_binh = await preview(topic="Tin tức", areas=["An Bình"])
    assert an_binh == {"topic": "Tin tức", "areas": ["Xã An Bình"], "recipients": 7}
    assert (await preview(topic="tin tuc", areas=["phuong-hoa-thuan"]))["recipients"] == 6
    assert (await preview(topic="chinh-sach-moi", areas=["phuong-hoa-thuan"]))["recipients"] == 0
    topics = await client.get(f"{desk.base}/topics", headers=desk.officer)
    assert {t["slug"]: t["subscribers"] for t in topics.json()["items"]} == {
        "tin-tuc": 10,
        "chinh-sach-moi": 4,
    }


async def test_a_broadcast_to_ten_thousand_subscribers_of_a_commune_reaches_each_once(
    client, office, subscribers, workers, db
):
    desk = await office(["flaky"], {**FLAKY, "limits": {"flaky": {"per_second": 100_000}}})
    phones = await subscribers(desk.province, 10_000, area="xa-an-binh")
    await subscribers(desk.province, 50, area="phuong-hoa-thuan", start=20_000)  # not them
    sent = await broadcast(client, desk, areas=["xa-an-binh"], link="https://tinhthu.gov.vn/tin")
    assert sent["status"] in ("scheduled", "sending") and sent["areas"] == ["Xã An Bình"]

    async def done():
        out = await counts(client, desk, sent["id"])
        assert out["status"] == "sent" and out["counts"]["sent"] == 10_000, out["counts"]
        return out

    out = await wait_for(done, timeout=300, every=1)  # about a minute on two cores
    assert out["counts"] == {
        "written": 10_000,
        "waiting": 0,
        "sent": 10_000,
        "delivered": 0,
        "failed": 0,
        "cancelled": 0,
    }
    async with db.tenant_session(desk.province.id) as session:
        rows = (
            await session.execute(
                select(Notice.id, Notice.recipient["phone"].astext).where(
                    Notice.kind == "broadcast", Notice.lane == "bulk"
                )
            )
        ).all()
    assert sorted(phone for _, phone in rows) == sorted(phones)
    texts = [FlakyChannel.accepted[str(ident)] for ident, _ in rows]
    assert all(len(t) == 1 for t in texts)  # once each
    assert texts[0][0] == (
        "Tỉnh Thử – Tin tức: Thông báo lịch tiêm chủng tháng 12. https://tinhthu.gov.vn/tin"
    )


async def test_a_cancelled_broadcast_stops_and_its_unsent_notices_are_cancelled(
    client, office, subscribers, workers, db, monkeypatch
):
    from motcua.broadcasts import broadcasting

    monkeypatch.setattr(broadcasting, "BATCH", 100)
    # 50 a second: the broadcast is still going when it is cancelled.
    desk = await office(["flaky"], {**FLAKY, "limits": {"flaky": {"per_second": 50}}})
    await subscribers(desk.province, 3000)
    sent = await broadcast(client, desk)

    async def under_way():
        out = await counts(client, desk, sent["id"])
        assert out["counts"]["sent"] > 0
        return out

    await wait_for(under_way)
    response = await client.post(f"{desk.base}/broadcasts/{sent['id']}/cancel", headers=desk.admin)
    assert response.status_code == 200, response.text

    async def settled():
        out = await counts(client, desk, sent["id"])
        assert out["counts"]["waiting"] == 0, out["counts"]
        return out

    out = await wait_for(settled)
    await asyncio.sleep(1.5)  # nothing more is written or sent afterwards
    later = await counts(client, desk, sent["id"])
    assert later == out and out["status"] == "cancelled"
    c = out["counts"]
    assert c["cancelled"] > 0 and c["sent"] > 0
    assert c["sent"] + c["cancelled"] + c["failed"] == c["written"] <= 3000
    assert c["written"] < 3000 or c["cancelled"] > 0
    async with db.tenant_session(desk.province.id) as session:
        row = await session.scalar(select(Broadcast).where(Broadcast.id == sent["id"]))
    assert row.recipients == c["written"]
    again = await client.post(f"{desk.base}/broadcasts/{sent['id']}/cancel", headers=desk.admin)
    assert again.status_code == 409


async def test_a_copy_that_comes_back_for_a_retry_after_the_cancel_is_not_sent(
    client, office, subscribers, settings, db, app
):
    desk = await office(["flaky"], FLAKY)
    await subscribers(desk.province, 3)
    sent = await broadcast(client, desk)
    ctx = {"db": db, "settings": settings, "redis": app.state.services.queue}
    await fan_out_broadcast(ctx, str(desk.province.id), sent["id"])
    async with db.tenant_session(desk.province.id) as session:
        ids = list(await session.scalars(select(Notice.id).where(Notice.kind == "broadcast")))
        # One copy is with its provider when the admin cancels...
        await session.execute(update(Notice).where(Notice.id == ids[0]).values(status="sending"))
        await session.commit()
    response = await client.post(f"{desk.base}/broadcasts/{sent['id']}/cancel", headers=desk.admin)
    assert response.status_code == 200 and response.json()["counts"]["cancelled"] == 2
    async with db.tenant_session(desk.province.id) as session:
        # ...and the provider answers "try again later".
        await session.execute(update(Notice).where(Notice.id == ids[0]).values(status="created"))
        await session.commit()
    async with ProviderConnections() as http:
        vault = Vault([Fernet.generate_key().decode()])
        deliverer = Deliverer(db, http, vault, "http://x/t", redis=app.state.services.queue)
        await deliverer.deliver(desk.province.id, ids[0], desk.province.slug)
    assert str(ids[0]) not in FlakyChannel.accepted
    out = await counts(client, desk, sent["id"])
    assert out["counts"]["cancelled"] == 3 and out["counts"]["waiting"] == 0


async def test_a_scheduled_broadcast_starts_at_its_time(client, office, subscribers, workers):
    desk = await office(["flaky"], FLAKY)
    await subscribers(desk.province, 20)
    # The province's local time, without an offset.
    at = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(seconds=3)
    sent = await broadcast(client, desk, send_at=at.replace(tzinfo=None).isoformat())
    assert sent["status"] == "scheduled"
    assert sent["send_at_local"] == f"{at:%d/%m/%Y %H:%M}"
    await asyncio.sleep(1)
    early = await counts(client, desk, sent["id"])
    assert early["status"] == "scheduled" and early["counts"]["written"] == 0

    async def done():
        out = await counts(client, desk, sent["id"])
        assert out["counts"]["sent"] == 20, out
        return out

    out = await wait_for(done, timeout=20)
    started = datetime.fromisoformat(out["started_at"])
    assert started >= at.astimezone(UTC) - timedelta(seconds=1)


async def test_a_due_broadcast_whose_job_was_lost_is_started_by_the_cron(
    client, office, subscribers, settings, db, app
):
    desk = await office(["flaky"], FLAKY)
    await subscribers(desk.province, 3)
    async with db.tenant_session(desk.province.id) as session:
        session.add(
            Broadcast(
                topic_slug="tin-tuc",
                areas=[],
                text="Tin cũ",
                status="scheduled",
                send_at=datetime.now(UTC) - timedelta(minutes=5),
                recipients=0,
                cursor="",
            )
        )
        await session.commit()
    ctx = {"db": db, "settings": settings, "redis": app.state.services.queue}
    assert await start_due_broadcasts(ctx) >= 1


async def test_bad_broadcasts_are_clear_problems_and_write_nothing(client, office, db):
    desk = await office(["flaky"], FLAKY)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    cases = [
        ({"topic": "the-thao"}, "topic"),
        ({"areas": ["Xã Không Có"]}, "area"),
        ({"text": "   "}, "text"),
        ({"text": "a" * 2001}, "text"),
        ({"image_url": "http://tinhthu.gov.vn/a.jpg"}, "image_url"),
        ({"image_url": "javascript:alert(1)"}, "image_url"),
        ({"link": "ftp://tinhthu.gov.vn"}, "link"),
        ({"send_at": past}, "send_at"),
    ]
    for change, field in cases:
        body = {"topic": "tin-tuc", "text": "Tin mới", **change}
        response = await client.post(f"{desk.base}/broadcasts", headers=desk.admin, json=body)
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        fields = [e["field"] for e in problem.get("errors", [])] + [problem.get("field")]
        assert field in fields, (change, problem)
    listed = await client.get(f"{desk.base}/broadcasts", headers=desk.admin)
    assert listed.json()["total"] == 0
    async with db.tenant_session(desk.province.id) as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


async def test_only_admins_write_broadcasts_and_officers_read_their_counts(client, office):
    desk = await office(["flaky"], FLAKY)
    body = {"topic": "tin-tuc", "text": "Tin mới"}
    refused = await client.post(f"{desk.base}/broadcasts", headers=desk.officer, json=body)
    assert refused.status_code == 403
    unsigned = await client.post(f"{desk.base}/broadcasts", json=body)
    assert unsigned.status_code == 401
    sent = await broadcast(client, desk)
    assert (await counts(client, desk, sent["id"]))["id"] == sent["id"]


async def test_another_provinces_broadcast_is_invisible(client, office):
    ours = await office(["flaky"], FLAKY)
    theirs = await office(["flaky"], FLAKY)
    sent = await broadcast(client, theirs)
    response = await client.get(f"{ours.base}/broadcasts/{sent['id']}", headers=ours.admin)
    assert response.status_code == 404
    cancel = await client.post(f"{ours.base}/broadcasts/{sent['id']}/cancel", headers=ours.admin)
    assert cancel.status_code == 404
    listed = await client.get(f"{ours.base}/broadcasts", headers=ours.admin)
    assert listed.json()["items"] == []
    # Their key on our address is refused outright.
    crossed = await client.get(f"{ours.base}/broadcasts", headers=theirs.admin)
    assert crossed.status_code == 403


async def test_an_operator_lists_and_cancels_a_broadcast_from_the_command_line(
    client, office, subscribers, motcua, db
):
    desk = await office(["flaky"], FLAKY)
    await subscribers(desk.province, 3)
    at = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(hours=2)
    sent = await broadcast(client, desk, send_at=at.replace(tzinfo=None).isoformat())
    listed = motcua("broadcasts", "list", "--tenant", desk.province.slug)
    assert listed.returncode == 0, listed.stderr
    assert f"{sent['id']}  scheduled" in listed.stdout and f"{at:%d/%m/%Y %H:%M}" in listed.stdout

    cancelled = motcua("broadcasts", "cancel", "--tenant", desk.province.slug, sent["id"])
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"{sent['id']}  cancelled" in cancelled.stdout
    assert (await counts(client, desk, sent["id"]))["status"] == "cancelled"
    [row] = [r for r in await province_rows(db, desk.province) if r.action == "broadcast.cancel"]
    assert (row.subject, row.target, row.client) == (OPERATOR, f"broadcast:{sent['id']}", "cli")

    again = motcua("broadcasts", "cancel", "--tenant", desk.province.slug, sent["id"])
    assert again.returncode == 1 and "cancelled already" in again.stderr
    wrong = motcua("broadcasts", "cancel", "--tenant", desk.province.slug, "not-an-id")
    assert wrong.returncode == 1 and "not a broadcast id" in wrong.stderr
    nowhere = motcua("broadcasts", "list", "--tenant", "no-such-province")
    assert nowhere.returncode == 1 and nowhere.stdout == ""
