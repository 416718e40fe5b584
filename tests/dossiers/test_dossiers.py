"""The provinces' own stories, end to end over HTTP."""

import asyncio
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import png
import zxingcpp

PROBLEM = "application/problem+json"


async def test_household_business_received_04_09_promised_06_09_completed_early(desk, client):
    await desk.procedure("2.000720", 3, name="Đăng ký thành lập hộ kinh doanh")
    dossier = await desk.intake("2.000720", received_at="2024-09-04T08:30:00+07:00")
    assert dossier["status"] == "received" and dossier["national_status"] == 2
    assert dossier["due_at"] == "2024-09-06T17:00:00+07:00"
    assert dossier["code"] == "TT.X.AN-240904-0001"
    assert dossier["applicant"]["phone"] == "+84912345678"

    await desk.act(dossier["code"], "start", at="2024-09-04T09:00:00+07:00")
    done = await desk.act(dossier["code"], "complete", at="2024-09-04T15:00:00+07:00")
    assert done["status"] == "result_ready" and done["national_status"] == 9
    assert done["timeliness"] == "early"
    track = await client.get(urlsplit(done["tracking_url"]).path, params={"k": _key(done)})
    assert "Mời Ông/Bà đến nhận kết quả ngay hôm nay" in track.text
    # Read back later, every time is still the province's local time, as on the receipt.
    again = (
        await client.get(f"{desk.base}/dossiers/{dossier['code']}", headers=desk.officer)
    ).json()
    assert again["received_at"] == "2024-09-04T08:30:00+07:00"
    assert again["completed_at"] == "2024-09-04T15:00:00+07:00"
    assert [e["at"][-6:] for e in again["timeline"]] == ["+07:00"] * 3
    tracked = await client.get(
        urlsplit(done["tracking_url"]).path.replace("/track/", "/api/v1/track/"),
        params={"k": _key(done)},
    )
    assert tracked.json()["due_at"] == "2024-09-06T17:00:00+07:00"
    assert tracked.json()["timeline"][0]["at"] == "2024-09-04T08:30:00+07:00"


async def test_birth_residence_and_insurance_together_completed_long_before_the_promise(
    desk, client
):
    await desk.procedure(
        "1.013124",
        8,
        name="Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ BHYT "
        "cho trẻ em dưới 6 tuổi",
    )
    dossier = await desk.intake("1.013124", received_at="2024-09-04T10:00:00+07:00")
    assert dossier["due_at"] == "2024-09-13T17:00:00+07:00"
    await desk.act(dossier["code"], "start", at="2024-09-04T10:05:00+07:00")
    done = await desk.act(dossier["code"], "complete", at="2024-09-04T16:00:00+07:00")
    assert done["timeliness"] == "early"
    returned = await desk.act(dossier["code"], "return", at="2024-09-04T16:30:00+07:00")
    assert returned["status"] == "returned" and returned["national_status"] == 10


async def test_a_transfer_commune_to_department_and_back_shows_each_hand_over(desk, client):
    dossier = await desk.intake("1.000894")
    code = dossier["code"]
    await desk.act(code, "start")
    there = await desk.act(code, "transfer", agency_code="TT.STP", note="Xin ý kiến Sở Tư pháp")
    assert there["agency"] == {"code": "TT.STP", "name": "Sở Tư pháp tỉnh Thử"}
    back = await desk.act(code, "transfer", agency_code="TT.X.AN")
    assert back["agency"]["code"] == "TT.X.AN"
    steps = [
        (e["action"], e["agency"]["code"], (e["to_agency"] or {}).get("code"))
        for e in back["timeline"]
    ]
    assert steps == [
        ("receive", "TT.X.AN", None),
        ("start", "TT.X.AN", None),
        ("transfer", "TT.X.AN", "TT.STP"),
        ("transfer", "TT.STP", "TT.X.AN"),
    ]
    tracked = (await client.get(f"{desk.base}/track/{code}", params={"k": _key(back)})).json()
    texts = [e["text"] for e in tracked["timeline"]]
    assert "Chuyển hồ sơ đến Sở Tư pháp tỉnh Thử" in texts
    assert "Chuyển hồ sơ đến Ủy ban nhân dân xã An Bình" in texts


async def test_a_transfer_to_the_same_or_an_unknown_agency_is_refused(desk):
    code = (await desk.intake())["code"]
    await desk.act(code, "start")
    await desk.act(code, "transfer", agency_code="TT.X.AN", expect=422)
    await desk.act(code, "transfer", agency_code="TT.KHONG", expect=422)
    await desk.act(code, "transfer", expect=422)


async def test_the_qr_code_of_the_receipt_opens_the_tracking_page(desk, client):
    dossier = await desk.intake(documents=["Tờ khai đăng ký kết hôn", "Căn cước của hai bên"])
    response = await client.get(
        f"{desk.base}/dossiers/{dossier['code']}/receipt.png", headers=desk.officer
    )
    assert response.headers["content-type"] == "image/png"
    url = _decode_qr(response.content)
    assert url == dossier["tracking_url"]
    page = await client.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Đã tiếp nhận" in page.text and dossier["code"] in page.text

    receipt = await client.get(
        f"{desk.base}/dossiers/{dossier['code']}/receipt", headers=desk.officer
    )
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in receipt.text
    assert "Nguyễn Thị Hoa" in receipt.text and "<svg" in receipt.text
    assert "Tờ khai đăng ký kết hôn" in receipt.text and dossier["code"] in receipt.text
    assert "Thời gian hẹn trả kết quả" in receipt.text
    svg = await client.get(
        f"{desk.base}/dossiers/{dossier['code']}/receipt.svg", headers=desk.officer
    )
    assert svg.headers["content-type"].startswith("image/svg+xml")


def _decode_qr(data: bytes) -> str:
    width, height, rows, info = png.Reader(bytes=data).asDirect()
    pixels = bytearray()
    for row in rows:
        pixels.extend(v * 255 if info["bitdepth"] == 1 else v for v in row)
    [barcode] = zxingcpp.read_barcodes(memoryview(pixels).cast("B", shape=[height, width]))
    return barcode.text


def _key(dossier):
    return dossier["tracking_url"].split("k=", 1)[1]


async def test_fifty_parallel_intakes_at_one_agency_get_fifty_consecutive_codes(desk):
    received = "2026-11-27T09:00:00+07:00"
    dossiers = await asyncio.gather(*(desk.intake(received_at=received) for _ in range(50)))
    codes = sorted(d["code"] for d in dossiers)
    assert codes == [f"TT.X.AN-261127-{n:04d}" for n in range(1, 51)]


async def test_actions_that_do_not_fit_are_409_with_the_allowed_ones(desk):
    code = (await desk.intake())["code"]
    refused = await desk.act(code, "complete", expect=409)
    assert refused["allowed_actions"] == ["start", "withdraw", "reschedule", "note"]
    assert (await desk.act(code, "reject", note="x", expect=409))["current_status"] == "received"
    await desk.act(code, "request_supplement", note="x", expect=409)
    await desk.act(code, "withdraw", expect=422)  # fits, but needs its reason
    withdrawn = await desk.act(code, "withdraw", note="Công dân xin rút hồ sơ")
    assert withdrawn["status"] == "withdrawn" and withdrawn["national_status"] == 7
    assert (await desk.act(code, "start", expect=409))["allowed_actions"] == ["note"]


async def test_a_supplement_stops_the_clock(desk):
    await desk.procedure("9.100001", 3)
    dossier = await desk.intake("9.100001", received_at="2026-11-23T08:00:00+07:00")
    assert dossier["due_at"] == "2026-11-25T17:00:00+07:00"
    code = dossier["code"]
    await desk.act(code, "start", at="2026-11-23T08:30:00+07:00")
    asked = await desk.act(
        code,
        "request_supplement",
        note="Bổ sung bản sao sổ hộ khẩu",
        at="2026-11-24T08:00:00+07:00",
    )
    assert asked["status"] == "supplement_requested" and asked["national_status"] == 5
    back = await desk.act(code, "supplement_received", at="2026-11-26T08:00:00+07:00")
    # Two working days waited: the promise moves two working days.
    assert back["due_at"] == "2026-11-27T17:00:00+07:00"


async def test_reasons_are_required_and_shown_to_the_citizen(desk, client):
    code = (await desk.intake())["code"]
    await desk.act(code, "start")
    missing = await desk.act(code, "reject", expect=422)
    assert missing["errors"] == [{"field": "note", "message": "is required"}]
    rejected = await desk.act(code, "reject", note="Không đủ điều kiện kết hôn")
    assert rejected["status"] == "rejected" and rejected["national_status"] == 8
    tracked = (await client.get(f"{desk.base}/track/{code}", params={"k": _key(rejected)})).json()
    assert tracked["timeline"][-1]["note"] == "Không đủ điều kiện kết hôn"


async def test_internal_notes_stay_internal(desk, client):
    dossier = await desk.intake()
    noted = await desk.act(dossier["code"], "note", note="Hồ sơ của người quen lãnh đạo")
    assert noted["timeline"][-1]["public"] is False
    tracked = (
        await client.get(f"{desk.base}/track/{dossier['code']}", params={"k": _key(dossier)})
    ).json()
    assert all("lãnh đạo" not in e["note"] for e in tracked["timeline"])


async def test_a_retried_event_with_the_same_idempotency_key_is_a_no_op(desk):
    code = (await desk.intake())["code"]
    first = await desk.act(code, "start", headers={"Idempotency-Key": "k-123"})
    again = await desk.act(code, "start", headers={"Idempotency-Key": "k-123"})
    assert again == first and len(again["timeline"]) == 2
    other = await desk.act(code, "note", note="x", headers={"Idempotency-Key": "k-123"}, expect=422)
    assert "different request" in other["detail"]


async def test_an_integration_resending_its_external_id_gets_the_same_dossier(desk, client):
    body = {
        "procedure_code": "1.001193",
        "applicant": {"full_name": "Trần Văn Nam"},
        "channel": "integration",
        "external_id": "HCC-2026-000123",
    }
    first = await client.post(f"{desk.base}/dossiers", json=body, headers=desk.integration)
    again = await client.post(f"{desk.base}/dossiers", json=body, headers=desk.integration)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["code"] == first.json()["code"]


async def test_bad_intakes_are_clear_4xx_and_write_nothing(desk, client):
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for body, field in (
        ({"procedure_code": "9.999999"}, "procedure_code"),
        ({"procedure_code": "1.000894", "agency_code": "TT.SXD"}, "agency_code"),
        ({"procedure_code": "1.000894", "received_at": future}, "received_at"),
    ):
        response = await client.post(
            f"{desk.base}/dossiers",
            headers=desk.officer,
            json={"applicant": {"full_name": "Lê Văn A"}, **body},
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    foreign = await client.post(
        f"{desk.base}/dossiers",
        headers=desk.officer,
        json={
            "procedure_code": "1.000894",
            "applicant": {"full_name": "A", "phone": "+1 212 555 0100"},
        },
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"] == [
        {"field": "applicant.phone", "message": "is not a Vietnamese phone number"}
    ]
    listed = await client.get(f"{desk.base}/dossiers", headers=desk.officer)
    assert listed.json()["total"] == 0


async def test_a_nul_character_is_a_422_and_nothing_is_written(desk, client):
    """PostgreSQL cannot store a NUL in text: the intake (straight through asyncpg) and an
    event (through the ORM) both answer a problem, not a 500, and leave nothing behind."""
    refused = await client.post(
        f"{desk.base}/dossiers",
        headers=desk.officer,
        json={"procedure_code": "1.000894", "applicant": {"full_name": "Lê\u0000Văn A"}},
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    listed = await client.get(f"{desk.base}/dossiers", headers=desk.officer)
    assert listed.json()["total"] == 0
    code = (await desk.intake())["code"]
    await desk.act(code, "start", note="ghi\u0000chú", expect=422)
    read = await client.get(f"{desk.base}/dossiers/{code}", headers=desk.officer)
    assert read.json()["status"] == "received"
    assert [e["action"] for e in read.json()["timeline"]] == ["receive"]


async def test_odd_codes_huge_notes_and_other_provinces_are_refused(
    desk, client, onboard, make_key
):
    code = (await desk.intake())["code"]
    for odd in ("../../etc", "a b", "<script>", "x" * 100):
        response = await client.get(f"{desk.base}/dossiers/{odd}", headers=desk.officer)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)
    huge = await client.post(
        f"{desk.base}/dossiers/{code}/events",
        headers=desk.officer,
        json={"action": "note", "note": "x" * 10_000_000},
    )
    assert huge.status_code == 413
    long = await client.post(
        f"{desk.base}/dossiers/{code}/events",
        headers=desk.officer,
        json={"action": "note", "note": "x" * 2001},
    )
    assert long.status_code == 400
    other = await onboard()
    from motcua.auth.models import Role

    their_officer = {"Authorization": f"Bearer {await make_key(Role.OFFICER, other)}"}
    theirs = await client.get(f"/t/{other.slug}/api/v1/dossiers/{code}", headers=their_officer)
    assert theirs.status_code == 404
    crossed = await client.post(
        f"{desk.base}/dossiers/{code}/events", headers=their_officer, json={"action": "start"}
    )
    assert crossed.status_code == 403


async def test_tracking_without_the_key_shows_only_status_and_promise(desk, client):
    dossier = await desk.intake()
    code = dossier["code"]
    bare = (await client.get(f"{desk.base}/track/{code}")).json()
    assert set(k for k, v in bare.items() if v not in (None, [], False)) == {
        "code",
        "status",
        "status_text",
        "national_status",
        "due_at",
    }
    assert "Nguyễn" not in str(bare)
    wrong = await client.get(f"{desk.base}/track/{code}", params={"k": "guess"})
    unknown = await client.get(f"{desk.base}/track/TT.X.AN-000000-9999", params={"k": "guess"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["detail"].replace(code, "") == unknown.json()["detail"].replace(
        "TT.X.AN-000000-9999", ""
    )
    full = (await client.get(f"{desk.base}/track/{code}", params={"k": _key(dossier)})).json()
    assert full["procedure"]["name"] == "Đăng ký kết hôn"
    assert full["agency"]["name"] == "Ủy ban nhân dân xã An Bình"
    assert "Nguyễn" not in str(full) and "0912" not in str(full)


async def test_a_lost_receipt_gets_a_new_key_and_the_old_qr_stops_working(desk, client):
    dossier = await desk.intake()
    code, old = dossier["code"], _key(dossier)
    fresh = await client.post(f"{desk.base}/dossiers/{code}/tracking-key", headers=desk.officer)
    new = fresh.json()["tracking_url"].split("k=", 1)[1]
    assert new != old and len(new) >= 16
    assert (await client.get(f"{desk.base}/track/{code}", params={"k": old})).status_code == 404
    assert (await client.get(f"{desk.base}/track/{code}", params={"k": new})).status_code == 200


async def test_a_returned_dossier_is_rated_once_and_officers_see_it(desk, client):
    dossier = await desk.intake()
    code, key = dossier["code"], _key(dossier)
    rating = {
        "attitude": "rat_hai_long",
        "result": "hai_long",
        "comment": "<script>alert(1)</script> Cán bộ nhiệt tình",
    }
    early = await client.post(f"{desk.base}/track/{code}/rating", params={"k": key}, json=rating)
    assert early.status_code == 409
    assert early.json()["detail"].startswith("Hồ sơ được đánh giá sau khi đã trả kết quả.")
    for action in ("start", "complete", "return"):
        await desk.act(code, action)
    rated = await client.post(f"{desk.base}/track/{code}/rating", params={"k": key}, json=rating)
    assert rated.status_code == 200 and rated.json()["attitude"] == "rat_hai_long"
    changed = await client.post(
        f"{desk.base}/track/{code}/rating",
        params={"k": key},
        json={**rating, "result": "khong_hai_long"},
    )
    assert changed.json()["result"] == "khong_hai_long"
    wrong_key = await client.post(
        f"{desk.base}/track/{code}/rating", params={"k": "x"}, json=rating
    )
    assert wrong_key.status_code == 404
    staff = (await client.get(f"{desk.base}/dossiers/{code}", headers=desk.officer)).json()
    assert staff["rating"]["result"] == "khong_hai_long"
    page = await client.get(f"/t/{desk.province.slug}/track/{code}", params={"k": key})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text

    form = await client.post(
        f"/t/{desk.province.slug}/track/{code}/rating",
        params={"k": key},
        data={"attitude": "hai_long", "result": "hai_long", "comment": ""},
    )
    assert form.status_code == 303
    assert (await client.get(f"{desk.base}/track/{code}", params={"k": key})).json()["rating"][
        "attitude"
    ] == "hai_long"


async def test_staff_list_and_filter_dossiers(desk, client):
    await desk.procedure("9.200001", 1)
    old = await desk.intake("9.200001", received_at="2024-09-04T08:00:00+07:00")
    fresh = await desk.intake()
    await desk.act(fresh["code"], "start")
    base = f"{desk.base}/dossiers"

    async def codes(**params):
        response = await client.get(base, params=params, headers=desk.officer)
        assert response.status_code == 200, response.text
        return [d["code"] for d in response.json()["items"]]

    assert await codes() == [fresh["code"], old["code"]]
    assert await codes(status="in_progress") == [fresh["code"]]
    assert await codes(overdue="true") == [old["code"]]
    assert await codes(procedure="9.200001") == [old["code"]]
    assert await codes(received_to="2025-01-01T00:00:00+07:00") == [old["code"]]
    assert await codes(agency="TT.SXD") == []
    assert (
        await client.get(base, params={"status": "x" * 30}, headers=desk.officer)
    ).status_code == 400


async def test_public_tracking_is_rate_limited_per_client(desk, app):
    import httpx

    code = (await desk.intake())["code"]

    def visitor(address):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")

    async with visitor("203.0.113.7") as stranger, visitor("203.0.113.8") as neighbour:
        statuses = [
            (await stranger.get(f"{desk.base}/track/{code}")).status_code for _ in range(61)
        ]
        assert statuses[:60] == [200] * 60
        assert statuses[60] == 429
        assert (await neighbour.get(f"{desk.base}/track/{code}")).status_code == 200


async def test_a_receipts_own_link_is_not_counted_and_a_wrong_key_tells_nothing(desk, app):
    """The limit stops enumeration: only lookups without the key say whether a code exists.
    With a key, right or wrong, a lookup is not counted, and a wrong key answers as an
    unknown code does. Ratings, which write, are counted."""
    import httpx

    dossier = await desk.intake()
    code, key = dossier["code"], _key(dossier)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as phone:
        scans = [
            (await phone.get(f"{desk.base}/track/{code}", params={"k": key})).status_code
            for _ in range(65)
        ]
        assert scans == [200] * 65
        wrong = await phone.get(f"{desk.base}/track/{code}", params={"k": "x" * 22})
        unknown = await phone.get(f"{desk.base}/track/H99-991231-0001", params={"k": "x" * 22})
        assert wrong.status_code == unknown.status_code == 404
        assert wrong.json()["detail"].replace(code, "?") == unknown.json()["detail"].replace(
            "H99-991231-0001", "?"
        )
        typed = await phone.get(f"{desk.base}/track/{code}")  # a code typed from paper
        assert typed.status_code == 200
        assert typed.headers["ratelimit-remaining"] == "59"
        rating = {"attitude": "hai_long", "result": "hai_long"}
        early = await phone.post(
            f"{desk.base}/track/{code}/rating", params={"k": key}, json=rating
        )  # not returned yet: refused, and counted all the same, as every write
        assert early.status_code == 409 and early.headers["ratelimit-remaining"] == "58"


async def test_a_suspended_province_keeps_tracking_read_only(desk, client, make_key):
    from motcua.auth.models import Role

    dossier = await desk.intake()
    code, key = dossier["code"], _key(dossier)
    for action in ("start", "complete", "return"):
        await desk.act(code, action)
    operator = {"Authorization": f"Bearer {await make_key(Role.OPERATOR)}"}
    await client.post(f"/api/v1/platform/tenants/{desk.province.slug}/suspend", headers=operator)
    tracked = await client.get(f"{desk.base}/track/{code}", params={"k": key})
    assert tracked.status_code == 200 and tracked.json()["status"] == "returned"
    rated = await client.post(
        f"{desk.base}/track/{code}/rating",
        params={"k": key},
        json={"attitude": "hai_long", "result": "hai_long"},
    )
    assert rated.status_code == 403
    assert (await desk.act(code, "note", note="x", expect=403))["status"] == 403
