"""Staff reads of citizens' data leave rows: a dossier's notices count as reading the dossier,
the dossier list is one row per page read, and so is looking up a chat user."""

from urllib.parse import parse_qs, urlsplit

from motcua.conversations.models import ChatCitizen


async def _rows(client, desk, action):
    page = await client.get(f"{desk.base}/audit", params={"action": action}, headers=desk.admin)
    assert page.status_code == 200, page.text
    return page.json()["items"]


async def test_reading_a_dossiers_notices_is_reading_the_dossier(client, desk):
    dossier = await desk.intake()
    code = dossier["code"]
    notices = await client.get(f"{desk.base}/dossiers/{code}/notices", headers=desk.officer)
    assert notices.status_code == 200, notices.text
    [read] = await _rows(client, desk, "dossier.read")
    assert read["target"] == f"dossier:{code}" and read["subject"].startswith("key:")
    # The citizen sees it in "who looked at my file".
    url = urlsplit(dossier["tracking_url"])
    tracked = await client.get(
        f"{desk.base}/track/{code}", params={"k": parse_qs(url.query)["k"][0]}
    )
    assert len(tracked.json()["viewed_by"]) == 1


async def test_the_dossier_list_leaves_one_row_per_read_with_its_filters(client, desk):
    await desk.intake()
    listed = await client.get(
        f"{desk.base}/dossiers", params={"status": "received", "page": 1}, headers=desk.officer
    )
    assert listed.status_code == 200 and listed.json()["items"]
    [row] = await _rows(client, desk, "dossier.list")
    assert row["detail"] == {"status": "received", "page": "1"}
    assert row["target"] == ""
    assert await _rows(client, desk, "dossier.read") == []  # not a read of each dossier


async def test_looking_up_a_chat_user_is_recorded_without_their_identity(client, desk, db):
    async with db.tenant_session(desk.province.id) as session:
        session.add(ChatCitizen(channel="zalo", sender="zalo-user-4711", name="Hoa"))
        await session.commit()
    held = await client.get(f"{desk.base}/chat-citizens/zalo/zalo-user-4711", headers=desk.officer)
    assert held.status_code == 200, held.text
    missing = await client.get(f"{desk.base}/chat-citizens/zalo/nobody", headers=desk.officer)
    assert missing.status_code == 404
    [row] = await _rows(client, desk, "chat_citizen.read")  # a refused read leaves none
    assert row["target"] == "chat:zalo" and "zalo-user-4711" not in str(row)
