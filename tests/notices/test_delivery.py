"""Every status change a citizen should hear about reaches them once, on the best channel
they have, through retries and failover; nothing is lost when Redis or a worker is."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from arq import create_pool
from cryptography.fernet import Fernet
from motcua_test_channels import FlakyChannel, RefusingChannel
from sqlalchemy import select, update

from motcua.auth.models import Role
from motcua.auth.service import KeyService
from motcua.notices.channel import Receipt
from motcua.notices.connections import ProviderConnections
from motcua.notices.delivery import Deliverer
from motcua.notices.jobs import relay_notices
from motcua.notices.models import Notice
from motcua.notices.receipts import apply_receipt
from motcua.notices.turns import take_turn
from motcua.notices.vault import Vault
from motcua.queue import redis_settings
from motcua.worker import build_worker
from tests.notices.conftest import settle


async def test_the_receipt_notice_is_written_with_the_dossier_and_delivered(office, worker):
    desk = await office(["console"], {"console": {}})
    dossier = await desk.intake()

    async def sent():
        [notice] = await desk.notices(dossier["code"])
        assert notice["status"] == "sent", notice
        return notice

    notice = await settle(sent)
    assert notice["kind"] == "received" and notice["channel"] == "console"
    assert notice["attempts"][0]["outcome"] == "sent"
    assert notice["template_version"] == 0  # the platform's default wording


async def test_temporary_failures_are_retried_and_the_citizen_gets_it_once(office, worker):
    desk = await office(["flaky"], {"flaky": {"fail_times": 2}})
    dossier = await desk.intake()

    async def delivered():
        [notice] = await desk.notices(dossier["code"])
        assert notice["status"] == "sent", notice
        return notice

    notice = await settle(delivered)
    assert [a["outcome"] for a in notice["attempts"]] == ["temporary", "temporary", "sent"]
    [text] = FlakyChannel.accepted[notice["id"]]
    assert dossier["code"] in text and "đã tiếp nhận hồ sơ" in text
    assert "Hẹn trả kết quả" in text and dossier["tracking_url"] in text


async def test_a_permanent_failure_falls_over_to_the_next_channel_at_once(office, worker):
    desk = await office(["refusing", "flaky"], {"refusing": {}, "flaky": {}})
    dossier = await desk.intake()

    async def over():
        [notice] = await desk.notices(dossier["code"])
        assert notice["status"] == "sent", notice
        return notice

    notice = await settle(over)
    assert [(a["channel"], a["outcome"], a["provider_code"]) for a in notice["attempts"]] == [
        ("refusing", "permanent", "-118"),
        ("flaky", "sent", ""),
    ]
    assert RefusingChannel.tried.count(notice["id"]) == 1


async def test_an_exhausted_plan_leaves_the_notice_failed_for_staff_to_resend(
    office, worker, client
):
    desk = await office(["refusing"], {"refusing": {}, "flaky": {}})
    dossier = await desk.intake()

    async def failed():
        [notice] = await desk.notices(dossier["code"])
        assert notice["status"] == "failed", notice
        return notice

    notice = await settle(failed)
    assert notice["last_error"].startswith("refusing")
    resent = await client.post(f"{desk.base}/notices/{notice['id']}/resend", headers=desk.officer)
    assert resent.status_code == 200 and resent.json()["status"] == "created"

    async def failed_again():
        [n] = await desk.notices(dossier["code"])
        assert n["status"] == "failed" and len(n["attempts"]) == 2, n

    await settle(failed_again)
    sent_one = await client.post(f"{desk.base}/notices/{uuid.uuid4()}/resend", headers=desk.officer)
    assert sent_one.status_code == 404


async def test_only_channels_that_reach_the_citizen_are_planned(office, worker):
    desk = await office(["flaky", "console"], {"flaky": {}, "console": {}})
    dossier = await desk.intake(phone=None)

    async def sent():
        [notice] = await desk.notices(dossier["code"])
        assert notice["status"] == "sent"
        return notice

    notice = await settle(sent)
    assert notice["plan"] == ["console"]


async def test_a_result_notice_for_a_dossier_returned_meanwhile_is_cancelled(office, db, app):
    desk = await office(["console"], {"console": {}})
    dossier = await desk.intake()
    code = dossier["code"]
    for action in ("start", "complete", "return"):
        await desk.act(code, action)
    # No worker ran: deliver now, in order, as a late worker would.
    async with ProviderConnections() as http:
        vault = Vault([Fernet.generate_key().decode()])
        deliverer = Deliverer(db, http, vault, "http://x/t", redis=app.state.services.queue)
        notices = await desk.notices(code)
        for notice in notices:
            await deliverer.deliver(desk.province.id, uuid.UUID(notice["id"]), desk.province.slug)
    statuses = {n["kind"]: n["status"] for n in await desk.notices(code)}
    assert statuses == {
        "received": "sent",
        "in_progress": "cancelled",
        "result_ready_early": "cancelled",
        "returned": "sent",
    }


async def test_notices_lost_by_the_queue_are_found_by_the_relay(office, db, settings):
    desk = await office(["console"], {"console": {}})
    dossier = await desk.intake()
    code = dossier["code"]
    async with db.tenant_session(desk.province.id) as session:
        # A worker claimed it and died mid-send; then Redis lost its queue.
        await session.execute(
            update(Notice).values(
                status="sending", attempts=1, claimed_at=datetime.now(UTC) - timedelta(minutes=5)
            )
        )
        await session.commit()
    pool = await create_pool(
        redis_settings(settings.redis_url), default_queue_name=settings.queue_name
    )
    await pool.delete(settings.queue_name)
    await relay_notices({"db": db, "redis": pool, "settings": settings})
    running = build_worker(settings, handle_signals=False)
    running.cron_jobs = []
    running.burst = True
    await running.main()
    await running.close()
    await pool.aclose()
    [notice] = await desk.notices(code)
    assert notice["status"] == "sent"
    assert len(notice["attempts"]) == 1  # the dead worker's try left no attempt


async def test_the_relay_leaves_a_provinces_line_to_its_turns(office, db, settings):
    desk = await office(["console"], {"console": {}})
    code = (await desk.intake())["code"]
    [notice] = await desk.notices(code)
    async with db.tenant_session(desk.province.id) as session:
        # Waiting a minute in a long line: the line's turns will come, no job of its own.
        await session.execute(
            update(Notice).values(next_attempt_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    pool = await create_pool(
        redis_settings(settings.redis_url), default_queue_name=settings.queue_name
    )

    async def relayed():
        await relay_notices({"db": db, "redis": pool, "settings": settings})
        return await pool.keys(f"arq:job:deliver:{notice['id']}:*")

    try:
        assert await relayed() == []
        # A turn took it from the line and its worker died: now the relay queues it.
        while (turn := await take_turn(pool, settings.queue_name)) is not None:
            if turn[0] == str(desk.province.id):
                break
        assert turn is not None and turn[2] == [notice["id"]]
        assert len(await relayed()) == 1
    finally:
        await pool.delete(settings.queue_name)
        await pool.aclose()


async def test_test_keys_send_to_the_simulator_with_receipts(office, worker, db):
    desk = await office(["flaky", "console"], {"flaky": {}, "console": {}})
    async with db.platform_session() as session:
        _, key = await KeyService(session).create(
            role=Role.INTEGRATION, tenant_id=desk.province.id, test=True
        )
        await session.commit()
    test_key = {"Authorization": f"Bearer {key}"}
    delivered = await desk.intake(phone="+84900000000", headers=test_key)
    permanent = await desk.intake(phone="+84900000002", headers=test_key)

    async def settled():
        [ok] = await desk.notices(delivered["code"])
        [bad] = await desk.notices(permanent["code"])
        assert ok["status"] == "delivered", ok
        assert bad["status"] == "failed", bad
        return ok, bad

    ok, bad = await settle(settled)
    assert ok["test"] and ok["attempts"][0]["provider"] == "simulator:flaky"
    # The reserved number fails permanently on every channel of the plan.
    assert [(a["channel"], a["outcome"]) for a in bad["attempts"]] == [
        ("flaky", "permanent"),
        ("console", "permanent"),
    ]
    assert ok["id"] not in FlakyChannel.accepted  # no provider was called


async def test_receipts_move_notices_forward_only(office, worker, client, db):
    desk = await office(["flaky"], {"flaky": {"hook_token": "s3cret"}})
    dossier = await desk.intake()

    async def sent():
        [notice] = await desk.notices(dossier["code"])
        assert notice["status"] == "sent"
        return notice

    notice = await settle(sent)
    hook = f"/t/{desk.province.slug}/hooks/flaky"
    unsigned = await client.post(hook, json={"delivered": True, "notice_id": notice["id"]})
    assert unsigned.status_code == 401
    unknown = await client.post(f"/t/{desk.province.slug}/hooks/zalo?token=s3cret", json={})
    assert unknown.status_code == 404
    ok = await client.post(
        f"{hook}?token=s3cret", json={"delivered": True, "notice_id": notice["id"]}
    )
    assert ok.status_code == 201 or ok.status_code == 200

    async def delivered():
        [n] = await desk.notices(dossier["code"])
        assert n["status"] == "delivered"
        return n

    await settle(delivered)
    late = await client.post(
        f"{hook}?token=s3cret", json={"delivered": False, "notice_id": notice["id"], "code": "x"}
    )
    assert late.status_code in (200, 201)
    await asyncio.sleep(0.3)
    [n] = await desk.notices(dossier["code"])
    assert n["status"] == "delivered"  # never back


async def test_a_receipt_before_the_send_is_recorded_waits_for_it(office, db):
    desk = await office(["console"], {"console": {}})
    dossier = await desk.intake()
    [notice] = await desk.notices(dossier["code"])
    receipt = Receipt(delivered=True, notice_id=notice["id"])
    assert await apply_receipt(db, desk.province.id, receipt) is False  # not sent yet
    async with db.tenant_session(desk.province.id) as session:
        row = (await session.scalars(select(Notice))).one()
        row.status = "sent"
        await session.commit()
    assert await apply_receipt(db, desk.province.id, receipt) is True
    [notice] = await desk.notices(dossier["code"])
    assert notice["status"] == "delivered"


def test_settling_an_attempt_leaves_the_claimed_notice_as_it_was():
    """A record rolled back (a deadlock's victim) runs again from the notices as claimed:
    working out an attempt's outcome changes nothing until it is committed."""
    from motcua.notices.channel import DeliveryFailure, FailureKind
    from motcua.notices.delivery import MAX_TRIES_PER_CHANNEL, Attempt

    notice = Notice(
        id=uuid.uuid4(),
        status="sending",
        plan=["zalo", "sms"],
        channel="zalo",
        channel_attempts=MAX_TRIES_PER_CHANNEL,
        attempts=MAX_TRIES_PER_CHANNEL,
        forget=False,
    )
    failure = DeliveryFailure(FailureKind.TEMPORARY, "-32", "quota")
    attempt = Attempt(notice, "zalo", None, "temporary", failure, 12, 1)
    deliverer = Deliverer(None, None, None, "http://x/t", redis=None)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    first = deliverer._settle(notice, "sending", False, attempt=attempt, now=now)
    again = deliverer._settle(notice, "sending", False, attempt=attempt, now=now)
    assert first == again  # out of tries on Zalo: over to SMS, both times
    assert first[0]["plan"] == ["sms"] and first[0]["channel_attempts"] == 0
    assert (notice.plan, notice.channel, notice.status) == (["zalo", "sms"], "zalo", "sending")


async def test_a_citizen_who_erases_their_data_during_a_send_leaves_no_trace_once_sent(
    office, db, app
):
    """The erasure marks the notices still on their way `forget` while one is with its
    provider: the record of that send reads the mark under lock and clears the notice."""
    from motcua.notices.channel import Sent
    from motcua.notices.delivery import Attempt

    desk = await office(["console"], {"console": {}})
    await desk.intake()
    async with db.tenant_session(desk.province.id) as session:
        claimed = (await session.scalars(select(Notice))).one()
        claimed.status = "sending"
        await session.commit()
    async with db.tenant_session(desk.province.id) as session:  # the erasure, meanwhile
        await session.execute(update(Notice).values(forget=True))
        await session.commit()
    assert claimed.forget is False  # the worker's copy, from before the erasure
    async with ProviderConnections() as http:
        vault = Vault([Fernet.generate_key().decode()])
        deliverer = Deliverer(db, http, vault, "http://x/t", redis=app.state.services.queue)
        sent = Attempt(claimed, "console", Sent(provider_id="c-1"), "sent", None, 3, 0)
        await deliverer._record(desk.province.id, [sent])
    async with db.tenant_session(desk.province.id) as session:
        row = (await session.scalars(select(Notice))).one()
    assert (row.status, row.values, row.recipient) == ("sent", {}, {})
