"""Citizens in the chat, end to end: signed events through the hook, the worker's answer
through the notice pipeline, received by the provider stand-ins."""

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from motcua.broadcasts.models import Subscription
from motcua.conversations.identity import CHAT_KINDS
from motcua.conversations.inbound import enqueue_handling
from motcua.conversations.models import ChatCitizen, QuestionThread, ReceivedEvent
from motcua.dates import vn_date
from motcua.notices.models import Notice
from tests.broadcasts.conftest import wait_for


async def count(db, province, model=ReceivedEvent):
    async with db.tenant_session(province.id) as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_follower_texting_a_code_gets_its_status_in_vietnamese(chat):
    dossier = await chat.intake()
    assert (await chat.post(chat.zalo.follow_event("u1"))).json()["events"] == 1
    [welcome] = await chat.replies("u1", 1)
    assert "cảm ơn Ông/Bà đã quan tâm" in welcome
    await chat.says("u1", dossier["code"])
    [_, answer] = await chat.replies("u1", 2)
    due = vn_date(datetime.fromisoformat(dossier["due_at"]))
    assert f"Hồ sơ {dossier['code']}: Đã tiếp nhận" in answer
    assert f"Ngày hẹn trả kết quả: {due}" in answer
    assert "Ủy ban" not in answer  # not their dossier (yet): no agency, as tracking without k


async def test_a_code_typed_in_lower_case_with_extra_words_and_no_diacritics(chat):
    dossier = await chat.intake()
    await chat.says("u2", f"cho toi tra cuu ho so {dossier['code'].lower()} voi a")
    [answer] = await chat.replies("u2", 1)
    assert dossier["code"] in answer and "Đã tiếp nhận" in answer
    await chat.says("u2", f"tra cứu {dossier['code']}")
    await chat.replies("u2", 2)
    await chat.says("u2", "tra cuu XX-000000-0000")
    _, same, unknown = await chat.replies("u2", 3)
    assert same == answer
    assert "Không tìm thấy hồ sơ XX-000000-0000" in unknown


async def test_unsigned_forged_and_stale_events_are_refused_and_write_nothing(chat, client, db):
    event = chat.zalo.text_event("u3", "xin chào")
    unsigned = await client.post(f"{chat.hooks}/zalo", content=event.body)
    forged = await client.post(
        f"{chat.hooks}/zalo",
        content=event.body.replace(b"xin ch", b"XIN CH"),
        headers=event.headers,
    )
    old_ms = int((time.time() - 600) * 1000)
    stale = chat.zalo.signed_event(
        {
            "event_name": "user_send_text",
            "sender": {"id": "u3"},
            "message": {"msg_id": "m1", "text": "hi"},
        },
        timestamp_ms=old_ms,
    )
    stale_answer = await chat.post(stale)
    assert [r.status_code for r in (unsigned, forged, stale_answer)] == [401, 401, 401]
    assert unsigned.headers["content-type"].startswith("application/problem+json")
    assert await count(db, chat.province) == 0
    assert await count(db, chat.province, ChatCitizen) == 0


async def test_a_retried_event_is_recognised_and_answered_once(chat, db):
    hook = chat.zalo.text_event("u4", "giúp", msg_id="msg-retried")
    first, again = await chat.post(hook), await chat.post(hook)
    assert first.json()["events"] == 1 and again.json()["events"] == 0
    [help_text] = await chat.replies("u4", 1)
    assert "hồ sơ của tôi" in help_text
    await asyncio.sleep(0.5)
    assert len(await chat.replies("u4", 1)) == 1
    assert await count(db, chat.province) == 1


async def test_a_phone_confirmed_by_code_links_two_earlier_dossiers(chat, client, db):
    first, second = await chat.intake(), await chat.intake()
    await chat.says("u5", "sđt 0912 345 678")
    [asked] = await chat.replies("u5", 1)
    assert "Mã xác nhận đã được gửi" in asked
    received = await chat.esms.wait_for(3)  # two receipts and the code, in any order
    [sms] = [m for m in received if "mã xác nhận" in m.text]
    code = re.search(r"\b(\d{6})\b", sms.text).group(1)
    assert sms.phone == "0912345678"
    await chat.says("u5", "000000" if code != "000000" else "111111")
    await chat.replies("u5", 2)  # one at a time: the worker may take two at once
    await chat.says("u5", code)
    _, wrong, linked = await chat.replies("u5", 3)
    assert "chưa đúng" in wrong and "có 2 hồ sơ" in linked
    await chat.says("u5", "Hồ sơ của tôi")
    await chat.replies("u5", 4)
    await chat.says("u5", "ho so cua toi")
    *_, mine, mine_again = await chat.replies("u5", 5)
    assert first["code"] in mine and second["code"] in mine and mine == mine_again
    await chat.says("u5", first["code"])
    *_, detail = await chat.replies("u5", 6)
    assert "Cơ quan đang giải quyết: Ủy ban nhân dân xã An Bình" in detail
    # Their dossier notices now reach them in the chat.
    await chat.act(first["code"], "start")
    *_, notice = await chat.replies("u5", 7)
    assert f"Hồ sơ {first['code']}" in notice and "đang được" in notice
    # Erasing the chat keeps the dossier notices, without the chat id; the chat's own
    # messages, the one-time code among them, keep neither their text nor the address.
    await chat.says("u5", "xoa du lieu")
    *_, erased = await chat.replies("u5", 8)
    assert "Đã xóa dữ liệu" in erased

    async def cleared():
        async with db.tenant_session(chat.province.id) as session:
            rows = (await session.scalars(select(Notice))).all()
        assert all(r.status in ("sent", "delivered") for r in rows), [r.status for r in rows]
        said = [r for r in rows if r.kind in CHAT_KINDS]
        assert len(said) == 8 and all(r.values == {} == r.recipient for r in said)
        kept = [r for r in rows if r.dossier_code]
        assert {"received", "in_progress"} <= {r.kind for r in kept}
        assert all(r.recipient.get("phone") and "zalo_user_id" not in r.recipient for r in kept)

    await wait_for(cleared, timeout=10)


async def test_procedures_are_found_with_and_without_diacritics(chat):
    await chat.says("u6", "thủ tục đăng ký kết hôn")
    await chat.replies("u6", 1)
    await chat.says("u6", "thu tuc dang ky ket hon")
    with_marks, without = await chat.replies("u6", 2)
    assert with_marks == without
    assert with_marks.startswith("1. Đăng ký kết hôn (1.000894)")
    assert "Lệ phí: Miễn lệ phí" in with_marks and "Giấy tờ: Tờ khai đăng ký kết hôn" in with_marks
    assert "Thời hạn:" in with_marks


async def test_a_question_answered_by_an_officer_reaches_the_citizen(chat, client):
    await chat.says("u7", "Cho hỏi làm căn cước cho con cần mang gì? <script>alert(1)</script> 🙏")
    [ack] = await chat.replies("u7", 1)
    assert "chuyển đến cán bộ" in ack
    await chat.says("u7", "Con tôi 14 tuổi ạ")

    async def two_messages():
        inbox = (await client.get(f"{chat.base}/threads?status=open", headers=chat.officer)).json()
        [thread] = inbox["items"]
        assert thread["message_count"] == 2 and not thread["flagged"]
        return thread

    from tests.notices.conftest import settle

    thread = await settle(two_messages)
    url = f"{chat.base}/threads/{thread['id']}"
    assigned = await client.post(
        f"{url}/assign", headers=chat.officer, json={"agency_code": "TT.X.AN"}
    )
    assert assigned.status_code == 200 and assigned.json()["agency_code"] == "TT.X.AN"
    answered = await client.post(
        f"{url}/reply", headers=chat.officer, json={"text": "Mang giấy khai sinh của cháu."}
    )
    assert answered.status_code == 200 and answered.json()["status"] == "waiting"
    *_, reply = await chat.replies("u7", 2)
    assert reply == "Ủy ban nhân dân xã An Bình trả lời: Mang giấy khai sinh của cháu."
    closed = (await client.post(f"{url}/close", headers=chat.officer)).json()
    history = [(m["author"], m["action"]) for m in closed["messages"]]
    assert history == [
        ("citizen", "message"),
        ("citizen", "message"),
        ("system", "assign"),
        ("staff", "message"),
        ("system", "close"),
    ]
    assert "<script>" in closed["messages"][0]["text"]  # kept as typed; JSON, never HTML
    # Reading the thread leaves a row, as reading a dossier does.
    assert (await client.get(url, headers=chat.officer)).status_code == 200
    log = await client.get(f"{chat.base}/audit?action=thread.read", headers=chat.admin)
    [read] = log.json()["items"]
    assert read["target"] == f"thread:{thread['id']}"
    late = await client.post(f"{url}/reply", headers=chat.officer, json={"text": "x"})
    assert late.status_code == 409
    anonymous = await client.get(f"{chat.base}/threads")
    assert anonymous.status_code == 401


async def test_a_thread_unanswered_for_a_working_day_is_flagged(chat, client, db):
    await chat.says("u8", "Tôi hỏi từ hôm qua chưa ai trả lời")
    await chat.replies("u8", 1)
    async with db.tenant_session(chat.province.id) as session:
        [thread] = (await session.scalars(select(QuestionThread))).all()
        # The promise is one working day after the message, on the province's calendar.
        assert thread.answer_due_at > thread.last_message_at
        await session.execute(
            update(QuestionThread).values(answer_due_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    flagged = (await client.get(f"{chat.base}/threads?flagged=true", headers=chat.officer)).json()
    assert [t["flagged"] for t in flagged["items"]] == [True]
    calm = (await client.get(f"{chat.base}/threads?flagged=false", headers=chat.officer)).json()
    assert calm["items"] == []


async def test_a_returned_dossier_is_rated_by_message(chat, client):
    dossier = await chat.intake()
    await chat.post(chat.zalo.submit_info_event("u9", name="Phạm Văn Bình", phone="84912345678"))
    [linked] = await chat.replies("u9", 1)
    assert "Đã liên kết số điện thoại" in linked
    for action in ("start", "complete", "return"):
        await chat.act(dossier["code"], action)

    async def offered():
        got = await chat.replies("u9", 1)
        assert any("trả lời 3 (rất hài lòng)" in text for text in got)

    from tests.notices.conftest import settle

    await settle(offered)
    await chat.says("u9", "3")

    async def rated():
        seen = await client.get(f"{chat.base}/dossiers/{dossier['code']}", headers=chat.officer)
        rating = seen.json()["rating"]
        assert rating is not None and rating["attitude"] == "rat_hai_long"
        return rating

    rating = await settle(rated)
    assert rating["result"] == "rat_hai_long"

    async def thanked():
        assert any("Cảm ơn Ông/Bà đã đánh giá" in t for t in await chat.replies("u9", 1))

    await settle(thanked)


async def test_a_citizen_sees_and_erases_what_the_chat_holds(chat, client, db):
    await chat.says("u10", "Dữ liệu của tôi")
    [held] = await chat.replies("u10", 1)
    assert "mã người dùng zalo" in held and "1 tin nhắn" in held
    await chat.says("u10", "Tôi có câu hỏi")
    await chat.replies("u10", 2)
    staff_view = await client.get(f"{chat.base}/chat-citizens/zalo/u10", headers=chat.officer)
    assert staff_view.status_code == 200 and staff_view.json()["sender"] == "u10"
    await chat.says("u10", "đăng ký tin tức")
    *_, subscribed = await chat.replies("u10", 3)
    assert await count(db, chat.province, Subscription) == 1, subscribed
    await chat.says("u10", "xoa du lieu")
    *_, erased = await chat.replies("u10", 4)
    assert "Đã xóa dữ liệu" in erased and "đăng ký nhận tin" in erased
    gone = await client.get(f"{chat.base}/chat-citizens/zalo/u10", headers=chat.officer)
    assert gone.status_code == 404
    assert await count(db, chat.province) == 0
    assert await count(db, chat.province, QuestionThread) == 0
    assert await count(db, chat.province, Subscription) == 0


async def test_a_flood_is_slowed_down_but_nothing_is_lost(chat, client):
    for i in range(13):
        await chat.says("u11", f"câu hỏi số {i}")

    async def all_kept():
        inbox = (await client.get(f"{chat.base}/threads", headers=chat.officer)).json()
        assert len(inbox["items"]) == 1  # the worker may not have opened it yet
        assert inbox["items"][0]["message_count"] == 13

    from tests.notices.conftest import settle

    await settle(all_kept)
    texts = await chat.replies("u11", 2)
    assert sum("chờ 1 phút" in t for t in texts) == 1


async def test_texts_to_the_sms_number_need_the_gateway_token_and_a_recent_time(chat, client):
    query = chat.esms.incoming_text("84912345678", "giup")
    refused = await client.get(f"{chat.hooks}/sms", params=query)
    old = chat.esms.incoming_text(
        "84912345678", "giup", received=datetime.now(UTC) - timedelta(minutes=20)
    )
    stale = await client.get(f"{chat.hooks}/sms", params={**old, "token": chat.sms_token})
    assert refused.status_code == 401 and stale.status_code == 401
    ok = await client.get(f"{chat.hooks}/sms", params={**query, "token": chat.sms_token})
    assert ok.status_code in (200, 201) and ok.json()["events"] == 1
    again = await client.get(f"{chat.hooks}/sms", params={**query, "token": chat.sms_token})
    assert again.json()["events"] == 0

    async def answered():
        got = [s for s in chat.esms.received if "hồ sơ của tôi" in s.text]
        assert len(got) == 1 and got[0].phone == "0912345678"

    from tests.notices.conftest import settle

    await settle(answered)


async def test_an_officer_narrowed_to_a_commune_acts_only_on_its_threads(chat, client):
    await chat.says("u21", "Xin hỏi giờ làm việc của xã?")

    async def opened():
        inbox = (await client.get(f"{chat.base}/threads", headers=chat.officer)).json()
        assert len(inbox["items"]) == 1
        return inbox["items"][0]

    from tests.notices.conftest import settle

    thread = await settle(opened)
    url = f"{chat.base}/threads/{thread['id']}"
    assigned = await client.post(
        f"{url}/assign", headers=chat.officer, json={"agency_code": "TT.X.AN"}
    )
    assert assigned.status_code == 200

    async def narrowed_to(agency):
        made = await client.post(
            f"{chat.base}/keys",
            headers=chat.admin,
            json={"role": "officer", "name": agency, "agency_code": agency},
        )
        assert made.status_code == 201, made.text
        return {"Authorization": f"Bearer {made.json()['key']}"}

    other, own = await narrowed_to("TT.X.HOA"), await narrowed_to("TT.X.AN")
    assert (await client.get(url, headers=other)).status_code == 404
    assert (await client.get(f"{chat.base}/threads", headers=other)).json()["items"] == []
    # The agency above the commune sees its communes' threads, as with dossiers.
    above = await narrowed_to("TT")
    [seen] = (await client.get(f"{chat.base}/threads", headers=above)).json()["items"]
    assert seen["id"] == thread["id"]
    assert (await client.get(url, headers=above)).status_code == 200
    refused = await client.post(f"{url}/reply", headers=other, json={"text": "Không phải tôi."})
    assert refused.status_code == 404
    assert (await client.post(f"{url}/close", headers=other)).status_code == 404
    assert (await client.get(url, headers=own)).status_code == 200
    answered = await client.post(f"{url}/reply", headers=own, json={"text": "Từ 7 giờ 30."})
    assert answered.status_code == 200


async def test_a_senders_messages_are_answered_in_the_order_they_arrived(chat, db, app):
    # Four messages the hook stored; the job of the last one happens to run first.
    texts = ["giúp", "hồ sơ của tôi", "tro giup", "ho so cua toi"]
    start = datetime.now(UTC)
    async with db.tenant_session(chat.province.id) as session:
        for n, text in enumerate(texts):
            session.add(
                ReceivedEvent(
                    channel="zalo",
                    event_id=f"in-order-{n}",
                    kind="text",
                    sender="u30",
                    text=text,
                    details={},
                    created_at=start + timedelta(milliseconds=n),
                )
            )
        await session.commit()
    queue = app.state.services.queue
    await enqueue_handling(queue, str(chat.province.id), chat.province.slug, "zalo", "in-order-3")
    answers = await chat.replies("u30", 4)
    kinds = ["help" if "Ông/Bà có thể nhắn" in a else "mine" for a in answers]
    assert kinds == ["help", "mine", "help", "mine"], answers
    assert await count(db, chat.province) == 4
    # The other jobs, late, find their events answered and do nothing.
    for n in range(3):
        await enqueue_handling(
            queue, str(chat.province.id), chat.province.slug, "zalo", f"in-order-{n}"
        )
    await asyncio.sleep(1)
    assert len(await chat.replies("u30", 4)) == 4
