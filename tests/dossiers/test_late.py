"""Late dossiers: the agency apologises and gives a new date (phiếu xin lỗi và hẹn lại ngày
trả kết quả), or, when a promise passes with no new date, the sweep apologises once."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import msgspec
import pytest
from sqlalchemy import select

from motcua.auth.models import Role
from motcua.auth.service import KeyService
from motcua.db import Database
from motcua.dossiers import jobs
from motcua.dossiers.models import Dossier
from motcua.dossiers.service import NO_NEW_DATE
from motcua.notices.models import Notice
from motcua.notices.templates import DEFAULTS, fill
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import read_pack
from motcua.worker import build_worker
from tests.conftest import FIXTURE_PACK

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HOLIDAYS = {date(2026, 10, 15)}  # the test pack's calendar
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def day_and_night(monkeypatch):
    # The sweep waits out the night; tests run at any hour.
    monkeypatch.setattr(jobs, "QUIET_HOURS", "")


@pytest.fixture
async def counter(client, onboard, make_key, db, app):
    """A province whose citizens are reached on the console channel, and its staff."""

    async def make():
        province = await onboard()
        pack = read_pack(FIXTURE_PACK)
        tenant = msgspec.structs.replace(
            pack.tenant,
            slug=province.slug,
            domains=[province.domain],
            channels={"order": ["console"], "console": {}},
        )
        await apply_pack(db, msgspec.structs.replace(pack, tenant=tenant))
        app.state.services.directory.invalidate()
        officer = {"Authorization": f"Bearer {await make_key(Role.OFFICER, province)}"}
        admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, province)}"}
        base = f"/t/{province.slug}/api/v1"
        response = await client.put(
            f"{base}/procedures/9.500001",
            headers=admin,
            json={
                "name": "Cấp bản sao trích lục hộ tịch",
                "field": "Hộ tịch",
                "level": "commune",
                "agency_codes": ["TT.X.AN"],
                "processing_days": "1",
            },
        )
        assert response.status_code == 200, response.text

        async def intake(received_at=None, headers=None):
            body = {
                "procedure_code": "9.500001",
                "applicant": {"full_name": "Lê Thị Mai", "phone": "0912345678"},
            }
            if received_at:
                body["received_at"] = received_at.isoformat()
            response = await client.post(f"{base}/dossiers", json=body, headers=headers or officer)
            assert response.status_code == 201, response.text
            return response.json()

        async def act(code, action, expect=200, **extra):
            response = await client.post(
                f"{base}/dossiers/{code}/events",
                json={"action": action, **extra},
                headers=officer,
            )
            assert response.status_code == expect, response.text
            if expect >= 400:
                assert response.headers["content-type"].startswith(PROBLEM)
            return response.json()

        async def get(code):
            response = await client.get(f"{base}/dossiers/{code}", headers=officer)
            assert response.status_code == 200, response.text
            return response.json()

        async def notices(code):
            """The dossier's notices as stored, oldest first: kind, values, test."""
            async with db.tenant_session(province.id) as session:
                rows = (
                    await session.scalars(
                        select(Notice)
                        .where(Notice.dossier_code == code)
                        .order_by(Notice.created_at, Notice.kind)
                    )
                ).all()
                return [SimpleNamespace(kind=n.kind, values=n.values, test=n.test) for n in rows]

        return SimpleNamespace(
            province=province,
            officer=officer,
            admin=admin,
            base=base,
            intake=intake,
            act=act,
            get=get,
            notices=notices,
        )

    return make


def working_day(after_days: int) -> datetime:
    """16:00 local on the first working day at least this many days from now."""
    day = datetime.now(VN).date() + timedelta(days=after_days)
    while day.weekday() >= 5 or day in HOLIDAYS:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time().replace(hour=16), VN)


def sunday(after_days: int) -> datetime:
    day = datetime.now(VN).date() + timedelta(days=after_days)
    while day.weekday() != 6:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time().replace(hour=10), VN)


def dd_mm_yyyy(moment: datetime | str) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(VN).strftime("%d/%m/%Y")


def text_of(notice) -> str:
    """What the citizen reads, with the platform's default Vietnamese wording."""
    return fill(DEFAULTS["vi"][notice.kind][1], {k: str(v) for k, v in notice.values.items()})


def key_of(dossier) -> str:
    return dossier["tracking_url"].split("k=", 1)[1]


async def sweep(settings, redis_pool, db=None):
    """The cron job itself, as a worker calls it: real database, real Redis."""
    database = db or Database.for_settings(settings, pool_size=2)
    try:
        return await jobs.apologise_for_missed_promises(
            {"db": database, "redis": redis_pool, "settings": settings}
        )
    finally:
        if db is None:
            await database.dispose()


@pytest.fixture
async def redis_pool(settings):
    from arq import create_pool

    from motcua.queue import redis_settings

    pool = await create_pool(redis_settings(settings.redis_url))
    pool.default_queue_name = settings.queue_name
    yield pool
    await pool.aclose()


# -- the agency reschedules ----------------------------------------------------------------


async def test_a_reschedule_moves_the_promise_writes_the_event_and_one_apology(counter, client):
    desk = await counter()
    dossier = await desk.intake()
    code, first_due = dossier["code"], dossier["due_at"]
    await desk.act(code, "start")
    new_due = working_day(20)
    moved = await desk.act(
        code,
        "reschedule",
        due_at=new_due.isoformat(),
        note="Cần xác minh thông tin tại nơi đăng ký hộ tịch trước đây",
    )
    assert moved["status"] == "in_progress"  # the dossier stays where it is
    assert datetime.fromisoformat(moved["due_at"]) == new_due
    assert datetime.fromisoformat(moved["first_due_at"]) == datetime.fromisoformat(first_due)
    event = moved["timeline"][-1]
    assert event["action"] == "reschedule" and event["public"] is True
    assert event["text"] == "Xin lỗi và hẹn lại ngày trả kết quả"
    assert event["note"] == "Cần xác minh thông tin tại nơi đăng ký hộ tịch trước đây"
    assert datetime.fromisoformat(event["due_at"]) == new_due

    kinds = [n.kind for n in await desk.notices(code)]
    assert kinds.count("late") == 1 and kinds[-1] == "late"
    [late] = [n for n in await desk.notices(code) if n.kind == "late"]
    text = text_of(late)
    assert "chân thành xin lỗi Ông/Bà" in text and code in text
    assert f"đúng hẹn {dd_mm_yyyy(first_due)}" in text
    assert f"Ngày hẹn mới: {dd_mm_yyyy(new_due)}" in text
    assert moved["tracking_url"] in text

    # The citizen's page shows the new date and says it was moved.
    tracked = (await client.get(f"{desk.base}/track/{code}", params={"k": key_of(dossier)})).json()
    assert datetime.fromisoformat(tracked["due_at"]) == new_due
    assert tracked["rescheduled"] is True
    assert datetime.fromisoformat(tracked["first_due_at"]) == datetime.fromisoformat(first_due)
    assert tracked["timeline"][-1]["text"] == (
        f"Xin lỗi và hẹn lại ngày trả kết quả: ngày {dd_mm_yyyy(new_due)}"
    )
    bare = (await client.get(f"{desk.base}/track/{code}")).json()
    assert bare["rescheduled"] is True and bare["first_due_at"] is None
    page = await client.get(urlsplit(moved["tracking_url"]).path, params={"k": key_of(dossier)})
    assert "đã hẹn lại" in page.text and "hẹn ban đầu" in page.text


async def test_a_second_reschedule_apologises_for_the_promise_it_replaces(counter):
    desk = await counter()
    code = (await desk.intake())["code"]
    first, second = working_day(10), working_day(25)
    await desk.act(code, "reschedule", due_at=first.isoformat(), note="Chờ ý kiến Sở Tư pháp")
    again = await desk.act(
        code, "reschedule", due_at=second.isoformat(), note="Sở Tư pháp chưa trả lời"
    )
    assert again["status"] == "received"
    late = [n for n in await desk.notices(code) if n.kind == "late"]
    assert len(late) == 2
    assert f"đúng hẹn {dd_mm_yyyy(first)}. Ngày hẹn mới: {dd_mm_yyyy(second)}" in text_of(late[1])
    # The first promise is the intake's, not the one the first reschedule gave.
    assert datetime.fromisoformat(again["first_due_at"]) < first


async def test_a_bad_new_date_is_a_clear_4xx_and_writes_nothing(counter, client):
    desk = await counter()
    dossier = await desk.intake()
    code = dossier["code"]
    await desk.act(code, "start")
    before = await desk.get(code)
    notices_before = len(await desk.notices(code))
    later, reason = working_day(20).isoformat(), "Cần xác minh thêm"
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    earlier = (datetime.fromisoformat(before["due_at"]) - timedelta(minutes=1)).isoformat()
    for body, field, message in (
        ({"note": reason}, "due_at", "is required"),
        ({"due_at": later}, "note", "is required"),
        ({"due_at": later, "note": "   "}, "note", "is required"),
        ({"due_at": yesterday, "note": reason}, "due_at", "is in the past"),
        ({"due_at": earlier, "note": reason}, "due_at", "must be later than the current promise"),
        ({"due_at": before["due_at"], "note": reason}, "due_at", "must be later"),
        ({"due_at": sunday(10).isoformat(), "note": reason}, "due_at", "is not a working day"),
        ({"due_at": working_day(400).isoformat(), "note": reason}, "due_at", "a year away"),
    ):
        refused = await desk.act(code, "reschedule", expect=422, **body)
        [error] = refused["errors"]
        assert error["field"] == field and message in error["message"], (body, refused)
    # A new date belongs to a reschedule only; a bad date is a 400 from the schema.
    refused = await desk.act(code, "note", note="x", due_at=later, expect=422)
    assert refused["errors"] == [{"field": "due_at", "message": "is for 'reschedule' only"}]
    await desk.act(code, "reschedule", due_at="20/12/2026", note=reason, expect=400)
    assert await desk.get(code) == before
    assert len(await desk.notices(code)) == notices_before

    # Finished dossiers keep their promise: 409, naming what they can still do.
    done = await desk.act(code, "complete")
    refused = await desk.act(code, "reschedule", due_at=later, note=reason, expect=409)
    assert (
        refused["current_status"] == "result_ready"
        and "reschedule" not in (refused["allowed_actions"])
    )
    withdrawn = (await desk.intake())["code"]
    await desk.act(withdrawn, "withdraw", note="Công dân xin rút")
    await desk.act(withdrawn, "reschedule", due_at=later, note=reason, expect=409)
    assert (await desk.get(code))["due_at"] == done["due_at"]
    assert [n.kind for n in await desk.notices(withdrawn)].count("late") == 0


async def test_completion_after_a_reschedule_is_late_against_the_first_promise(counter):
    desk = await counter()
    received = working_day(-21).replace(hour=8)
    dossier = await desk.intake(received_at=received)
    code, first_due = dossier["code"], dossier["due_at"]
    await desk.act(code, "start", at=(received + timedelta(minutes=30)).isoformat())
    await desk.act(
        code, "reschedule", due_at=working_day(20).isoformat(), note="Chờ kết quả xác minh"
    )
    done = await desk.act(code, "complete")  # before the new date, after the first one
    assert done["timeliness"] == "late"
    result = (await desk.notices(code))[-1]
    assert result.kind == "result_ready_late"
    # The apology names the promise that was missed, not the new one.
    assert f"chậm so với ngày hẹn {dd_mm_yyyy(first_due)}" in text_of(result)


async def test_a_needless_reschedule_does_not_make_an_early_result_late(counter):
    desk = await counter()
    code = (await desk.intake())["code"]
    await desk.act(code, "start")
    await desk.act(code, "reschedule", due_at=working_day(20).isoformat(), note="Dự phòng")
    done = await desk.act(code, "complete")
    assert done["timeliness"] in ("early", "on_time")


async def test_a_supplement_moves_the_first_promise_as_well(counter):
    desk = await counter()
    code = (await desk.intake())["code"]
    await desk.act(code, "start")
    moved = await desk.act(
        code, "reschedule", due_at=working_day(20).isoformat(), note="Chờ xác minh"
    )
    await desk.act(code, "request_supplement", note="Bổ sung bản sao giấy khai sinh")
    back = await desk.act(code, "supplement_received")
    # Minutes apart: little working time passed, but neither promise moves back.
    for field in ("first_due_at", "due_at"):
        assert datetime.fromisoformat(back[field]) >= datetime.fromisoformat(moved[field])


# -- the sweep -------------------------------------------------------------------------


async def test_the_sweep_apologises_once_per_missed_promise_even_twice_at_once(
    counter, settings, redis_pool
):
    desk = await counter()
    past = working_day(-14).replace(hour=8)
    missed = [(await desk.intake(received_at=past))["code"] for _ in range(2)]
    started = (await desk.intake(received_at=past))["code"]
    await desk.act(started, "start", at=(past + timedelta(hours=1)).isoformat())
    missed.append(started)
    on_time = (await desk.intake())["code"]
    withdrawn = (await desk.intake(received_at=past))["code"]
    await desk.act(withdrawn, "withdraw", note="Công dân xin rút")
    ready = (await desk.intake(received_at=past))["code"]
    await desk.act(ready, "start", at=(past + timedelta(hours=1)).isoformat())
    await desk.act(ready, "complete", at=(past + timedelta(hours=2)).isoformat())
    # Waiting for the citizen's papers stops the clock: not the agency's delay.
    waiting = (await desk.intake(received_at=past))["code"]
    await desk.act(waiting, "start", at=(past + timedelta(hours=1)).isoformat())
    await desk.act(
        waiting, "request_supplement", note="Bổ sung", at=(past + timedelta(hours=2)).isoformat()
    )

    # Two workers at once, each with its own connections, then a later run.
    await asyncio.gather(sweep(settings, redis_pool), sweep(settings, redis_pool))
    await sweep(settings, redis_pool)

    for code in missed:
        late = [n for n in await desk.notices(code) if n.kind == "late"]
        assert len(late) == 1, code
        text = text_of(late[0])
        due = (await desk.get(code))["due_at"]
        assert f"chân thành xin lỗi Ông/Bà: hồ sơ {code}" in text
        assert f"đúng hẹn {dd_mm_yyyy(due)}. Ngày hẹn mới: {NO_NEW_DATE}." in text
        assert "cơ quan giải quyết sẽ báo lại" in text
    for code in (on_time, withdrawn, ready, waiting):
        assert "late" not in [n.kind for n in await desk.notices(code)], code
    # No event: an integration may still send what happened before the sweep ran.
    assert [e["action"] for e in (await desk.get(missed[0]))["timeline"]] == ["receive"]

    # A new promise is a new chance to keep it: the sweep stays quiet until it passes too.
    await desk.act(missed[0], "reschedule", due_at=working_day(10).isoformat(), note="Chờ xác minh")
    await sweep(settings, redis_pool)
    late = [n for n in await desk.notices(missed[0]) if n.kind == "late"]
    assert len(late) == 2 and "Ngày hẹn mới: " + dd_mm_yyyy(working_day(10)) in text_of(late[1])


async def test_the_next_promise_missed_gets_its_own_apology(counter, settings, redis_pool, db):
    desk = await counter()
    dossier = await desk.intake(received_at=working_day(-14).replace(hour=8))
    code = dossier["code"]
    await sweep(settings, redis_pool)
    # The new date passes as well (set directly: a reschedule cannot be in the past).
    async with db.tenant_session(desk.province.id) as session:
        row = await session.scalar(select(Dossier).where(Dossier.code == code))
        row.first_due_at, row.due_at = row.due_at, working_day(-3)
        await session.commit()
    await sweep(settings, redis_pool)
    await sweep(settings, redis_pool)
    late = [n for n in await desk.notices(code) if n.kind == "late"]
    assert [n.values["due_date"] for n in late] == [
        dd_mm_yyyy(dossier["due_at"]),
        dd_mm_yyyy(working_day(-3)),
    ]


async def test_the_sweep_keeps_each_province_to_its_own(counter, settings, redis_pool, db):
    first, second = await counter(), await counter()
    past = working_day(-14).replace(hour=8)
    # The same receiving unit on the same day: the same code in both provinces.
    one = (await first.intake(received_at=past))["code"]
    two = (await second.intake(received_at=past))["code"]
    assert one == two
    await second.act(two, "withdraw", note="Công dân xin rút")
    await sweep(settings, redis_pool)
    assert [n.kind for n in await first.notices(one)].count("late") == 1
    assert [n.kind for n in await second.notices(two)].count("late") == 0
    [late] = [n for n in await first.notices(one) if n.kind == "late"]
    assert late.values["tenant"] == first.province.slug
    assert late.values["province"] != "" and first.province.slug in late.values["tracking_url"]


async def test_a_test_dossier_s_apology_goes_to_the_simulator(
    counter, settings, redis_pool, db, client
):
    desk = await counter()
    async with db.platform_session() as session:
        _, key = await KeyService(session).create(
            role=Role.INTEGRATION, tenant_id=desk.province.id, test=True
        )
        await session.commit()
    test_key = {"Authorization": f"Bearer {key}"}
    code = (await desk.intake(received_at=working_day(-14).replace(hour=8), headers=test_key))[
        "code"
    ]
    await sweep(settings, redis_pool)
    [late] = [n for n in await desk.notices(code) if n.kind == "late"]
    assert late.test is True

    # A real worker drains the queue: the apology is "sent" by the simulator, no provider.
    running = build_worker(settings, handle_signals=False)
    running.cron_jobs = []
    running.burst = True
    await running.main()
    await running.close()
    listed = await client.get(f"{desk.base}/dossiers/{code}/notices", headers=desk.officer)
    [apology] = [n for n in listed.json()["items"] if n["kind"] == "late"]
    assert apology["test"] and apology["status"] in ("sent", "delivered")
    assert apology["attempts"][0]["provider"] == "simulator:console"


def test_the_sweep_runs_in_the_dossier_lane_only(settings):
    dossier_lane = build_worker(settings, handle_signals=False)
    bulk_lane = build_worker(settings, handle_signals=False, lane="bulk")
    name = "cron:apologise_for_missed_promises"
    assert name in {job.name for job in dossier_lane.cron_jobs}
    assert name not in {job.name for job in bulk_lane.cron_jobs}


async def test_the_openapi_schema_documents_the_reschedule(client):
    schema = (await client.get("/schema/openapi.json")).json()
    [event_in] = [v for k, v in schema["components"]["schemas"].items() if k.endswith("EventIn")]
    assert "reschedule" in event_in["properties"]["action"]["enum"]
    due_at = event_in["properties"]["due_at"]
    assert "reschedule only" in str(due_at) and "date-time" in str(due_at)
    [route] = [
        path["post"]
        for name, path in schema["paths"].items()
        if name.endswith("/dossiers/{code}/events")
    ]
    assert "reschedule (+due_at)" in route["description"]


async def test_a_province_words_its_own_apology_with_the_new_date(counter, client, settings):
    desk = await counter()
    path = f"{desk.base}/templates/late/*"
    unknown = await client.put(path, headers=desk.admin, json={"body": "Hẹn mới {ngay_hen_moi}"})
    assert unknown.status_code == 422 and "ngay_hen_moi" in unknown.text
    own = "Xin lỗi Ông/Bà: hồ sơ {code} hẹn lại ngày {new_due_date}. Lý do: {reason}."
    saved = await client.put(path, headers=desk.admin, json={"body": own})
    assert saved.status_code == 200, saved.text
    code = (await desk.intake())["code"]
    new_due = working_day(20)
    await desk.act(code, "reschedule", due_at=new_due.isoformat(), note="Chờ xác minh")

    running = build_worker(settings, handle_signals=False)
    running.cron_jobs = []
    running.burst = True
    await running.main()
    await running.close()
    listed = await client.get(f"{desk.base}/dossiers/{code}/notices", headers=desk.officer)
    [apology] = [n for n in listed.json()["items"] if n["kind"] == "late"]
    assert apology["status"] == "sent" and apology["template_version"] == 1
    [late] = [n for n in await desk.notices(code) if n.kind == "late"]
    assert fill(own, late.values) == (
        f"Xin lỗi Ông/Bà: hồ sơ {code} hẹn lại ngày {dd_mm_yyyy(new_due)}. Lý do: Chờ xác minh."
    )


async def test_a_new_date_without_its_hour_means_the_end_of_that_working_day(counter, client):
    desk = await counter()
    code = (await desk.intake())["code"]
    day = working_day(15).date()
    moved = await desk.act(
        code, "reschedule", due_at=f"{day.isoformat()}T00:00:00", note="Chờ xác minh"
    )
    assert datetime.fromisoformat(moved["due_at"]) == datetime.combine(
        day, datetime.min.time().replace(hour=17), VN
    )
    listed = await client.get(
        f"{desk.base}/dossiers", params={"status": "received"}, headers=desk.officer
    )
    [summary] = [d for d in listed.json()["items"] if d["code"] == code]
    assert summary["first_due_at"] is not None
