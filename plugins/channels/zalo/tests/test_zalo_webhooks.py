"""Webhooks Zalo posts: who signed them, what the citizen did, what was delivered."""

from __future__ import annotations

import hashlib
import time

import msgspec
import pytest

from motcua.notices.channel import (
    Address,
    InboundEvent,
    RawRequest,
    Receipt,
    Rendered,
    SendContext,
)
from motcua_channel_zalo import ZaloChannel, ZaloSettings
from motcua_channel_zalo.standin import SignedWebhook, ZaloStandIn

MINUTE_MS = 60_000


def now_ms() -> int:
    return int(time.time() * 1000)


def tampered(hook: SignedWebhook, body: bytes) -> RawRequest:
    request = hook.raw_request()
    return RawRequest(method="POST", headers=request.headers, query={}, body=body)


def test_a_signed_event_verifies(
    channel: ZaloChannel, settings: ZaloSettings, standin: ZaloStandIn
) -> None:
    assert channel.verify(standin.follow_event("2468013579").raw_request(), settings)


def test_the_signature_is_sha256_of_app_id_body_timestamp_and_oa_secret(
    channel: ZaloChannel, settings: ZaloSettings
) -> None:
    stamp = str(now_ms())
    body = msgspec.json.encode(
        {
            "app_id": settings.app_id,
            "event_name": "follow",
            "follower": {"id": "2468013579"},
            "timestamp": stamp,
        }
    )
    signed = settings.app_id.encode() + body + stamp.encode() + settings.oa_secret_key.encode()
    mac = hashlib.sha256(signed).hexdigest()
    request = RawRequest(
        method="POST", headers={"x-zevent-signature": f"mac={mac}"}, query={}, body=body
    )
    assert channel.verify(request, settings)


def test_a_body_changed_after_signing_is_refused(
    channel: ZaloChannel, settings: ZaloSettings, standin: ZaloStandIn
) -> None:
    hook = standin.text_event("2468013579", "Xin chào")
    forged = hook.body.replace(b"Xin ch", b"Tam bi")
    assert not channel.verify(tampered(hook, forged), settings)


def test_an_event_signed_with_another_oa_secret_is_refused(
    channel: ZaloChannel, standin: ZaloStandIn
) -> None:
    other = ZaloSettings(**standin.settings(oa_secret_key="another-secret"))
    assert not channel.verify(standin.follow_event("2468013579").raw_request(), other)


def test_an_event_without_its_signature_header_is_refused(
    channel: ZaloChannel, settings: ZaloSettings, standin: ZaloStandIn
) -> None:
    hook = standin.follow_event("2468013579")
    unsigned = RawRequest(method="POST", headers={}, query={}, body=hook.body)
    assert not channel.verify(unsigned, settings)
    bare = hook.headers["X-ZEvent-Signature"].removeprefix("mac=")
    no_prefix = RawRequest(
        method="POST", headers={"x-zevent-signature": bare}, query={}, body=hook.body
    )
    assert not channel.verify(no_prefix, settings)


@pytest.mark.parametrize(
    ("age_minutes", "accepted"),
    [(4, True), (6, False), (-4, True), (-6, False), (60 * 24, False)],
)
def test_only_events_stamped_within_five_minutes_of_now_are_accepted(
    age_minutes: int,
    accepted: bool,
    channel: ZaloChannel,
    settings: ZaloSettings,
    standin: ZaloStandIn,
) -> None:
    hook = standin.signed_event(
        {"event_name": "follow", "follower": {"id": "2468013579"}},
        timestamp_ms=now_ms() - age_minutes * MINUTE_MS,
    )
    assert channel.verify(hook.raw_request(), settings) is accepted


def test_a_body_that_is_not_json_is_refused_and_means_nothing(
    channel: ZaloChannel, settings: ZaloSettings
) -> None:
    request = RawRequest(method="POST", headers={"x-zevent-signature": "mac=00"}, query={},
                         body=b"<html>")  # fmt: skip
    assert not channel.verify(request, settings)
    assert channel.parse(request, settings) == []
    assert channel.parse_receipts(request, settings) == []


def test_follow_and_unfollow_name_the_follower(
    channel: ZaloChannel, settings: ZaloSettings, standin: ZaloStandIn
) -> None:
    [follow] = channel.parse(standin.follow_event("2468013579").raw_request(), settings)
    [unfollow] = channel.parse(
        standin.follow_event("2468013579", follow=False).raw_request(), settings
    )
    assert (follow.kind, follow.sender) == ("follow", "2468013579")
    assert (unfollow.kind, unfollow.sender) == ("unfollow", "2468013579")
    assert follow.event_id != unfollow.event_id


def test_a_text_from_a_citizen_keeps_its_words_and_message_id(
    channel: ZaloChannel, settings: ZaloSettings, standin: ZaloStandIn
) -> None:
    hook = standin.text_event("2468013579", "Cho tôi hỏi hồ sơ AG-2025-000123", msg_id="m-77")
    assert channel.parse(hook.raw_request(), settings) == [
        InboundEvent(
            kind="text",
            event_id="m-77",
            sender="2468013579",
            text="Cho tôi hỏi hồ sơ AG-2025-000123",
        )
    ]


def test_shared_contact_details_carry_the_phone_in_plus_84_form_and_the_name(
    channel: ZaloChannel, settings: ZaloSettings, standin: ZaloStandIn
) -> None:
    hook = standin.submit_info_event(
        "2468013579", name="Nguyễn Thị Hồng", phone="84912345678", address="Long Xuyên"
    )
    [shared] = channel.parse(hook.raw_request(), settings)
    assert (shared.kind, shared.sender) == ("shared_info", "2468013579")
    assert (shared.phone, shared.name) == ("+84912345678", "Nguyễn Thị Hồng")


def test_a_retried_event_keeps_its_id_and_a_new_one_gets_another(
    channel: ZaloChannel, settings: ZaloSettings, standin: ZaloStandIn
) -> None:
    first = standin.signed_event(
        {"event_name": "follow", "follower": {"id": "2468013579"}}, timestamp_ms=now_ms()
    )
    later = standin.signed_event(
        {"event_name": "follow", "follower": {"id": "2468013579"}},
        timestamp_ms=now_ms() + 1000,
    )
    [once] = channel.parse(first.raw_request(), settings)
    [retry] = channel.parse(first.raw_request(), settings)
    [again] = channel.parse(later.raw_request(), settings)
    assert once.event_id == retry.event_id != again.event_id


def test_a_timestamp_written_as_a_number_is_accepted(
    channel: ZaloChannel, settings: ZaloSettings
) -> None:
    stamp = now_ms()
    body = msgspec.json.encode(
        {
            "app_id": settings.app_id,
            "event_name": "follow",
            "follower": {"id": "2468013579"},
            "timestamp": stamp,
        }
    )
    signed = settings.app_id.encode() + body + str(stamp).encode()
    mac = hashlib.sha256(signed + settings.oa_secret_key.encode()).hexdigest()
    request = RawRequest(
        method="POST", headers={"x-zevent-signature": f"mac={mac}"}, query={}, body=body
    )
    assert channel.verify(request, settings)
    assert [e.kind for e in channel.parse(request, settings)] == ["follow"]


async def test_a_zns_delivery_receipt_names_the_notice_and_the_message(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    notice = Rendered(kind="received", text="Đã tiếp nhận.", template_data={"code": "X"})
    sent = await channel.send(notice, Address(phone="+84912345678"), settings, ctx)
    hook = standin.delivery_receipt(ctx.idempotency_key)

    assert channel.verify(hook.raw_request(), settings)
    assert channel.parse_receipts(hook.raw_request(), settings) == [
        Receipt(delivered=True, notice_id=ctx.idempotency_key, provider_id=sent.provider_id)
    ]
    assert channel.parse(hook.raw_request(), settings) == []


def test_a_citizen_event_is_no_receipt(
    channel: ZaloChannel, settings: ZaloSettings, standin: ZaloStandIn
) -> None:
    hook = standin.text_event("2468013579", "Xin chào")
    assert channel.parse_receipts(hook.raw_request(), settings) == []


def test_a_receipt_for_a_message_never_sent_cannot_be_built(standin: ZaloStandIn) -> None:
    with pytest.raises(LookupError):
        standin.delivery_receipt("notice-never-sent")
