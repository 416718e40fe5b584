"""A citizen who writes through the province's own portal (the webhook channel) gets the
answer back through it, addressed to them, so the portal can pass it on."""

from motcua_channel_webhook.standin import WebhookReceiver
from tests.notices.test_drills import env_refs


async def test_a_portal_citizens_answer_comes_back_addressed_to_them(
    office, worker, client, monkeypatch
):
    async with WebhookReceiver("portal-s3cret") as receiver:
        settings = env_refs("portal", receiver.channel_settings(), monkeypatch)
        desk = await office(["webhook"], {"webhook": settings})
        dossier = await desk.intake()
        [receipt] = await receiver.wait_for(1)
        assert receipt.payload["dossier_code"] == dossier["code"]
        assert "recipient" not in receipt.payload  # the province's copy of a dossier notice

        body, headers = receiver.signed_message(
            {"id": "evt-1", "kind": "text", "sender": "portal-42", "text": dossier["code"]}
        )
        hooks = f"/t/{desk.province.slug}/hooks/webhook"
        response = await client.post(hooks, content=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        [_, answer] = await receiver.wait_for(2, timeout=10)
    assert answer.signature_valid
    assert answer.payload["recipient"] == "portal-42"
    assert answer.payload["dossier_code"] is None
    assert f"Hồ sơ {dossier['code']}: Đã tiếp nhận" in answer.payload["text"]
