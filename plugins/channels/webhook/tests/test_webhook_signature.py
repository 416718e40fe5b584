"""Provinces (and the core, on /hooks/webhook) check signatures with verify_signature."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from motcua.notices.channel import (
    Address,
    DeliveryFailure,
    FailureKind,
    RawRequest,
    Rendered,
    SendContext,
)
from motcua_channel_webhook import WebhookChannel, WebhookSettings, sign, verify_signature
from motcua_channel_webhook.standin import WebhookReceiver

BODY = '{"id":"notice-1","text":"Hồ sơ đã có kết quả"}'.encode()
NOW = 1_757_000_000
SECRET = "bí-mật-chung-của-tỉnh"
OTHER_KEY = "không-phải-khóa-này"


def test_a_body_signed_with_the_shared_secret_verifies() -> None:
    assert verify_signature(SECRET, str(NOW), BODY, sign(SECRET, NOW, BODY), now=NOW)


def test_a_tampered_body_fails_verification() -> None:
    signature = sign(SECRET, NOW, BODY)
    tampered = BODY.replace("kết quả".encode(), "bị từ chối".encode())

    assert not verify_signature(SECRET, str(NOW), tampered, signature, now=NOW)


def test_a_changed_timestamp_fails_verification() -> None:
    assert not verify_signature(SECRET, str(NOW + 1), BODY, sign(SECRET, NOW, BODY), now=NOW)


def test_another_secret_fails_verification() -> None:
    assert not verify_signature(SECRET, str(NOW), BODY, sign("khác", NOW, BODY), now=NOW)


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_a_timestamp_outside_five_minutes_fails_so_a_replay_is_refused(age: int) -> None:
    stamp = NOW - age

    assert not verify_signature(SECRET, str(stamp), BODY, sign(SECRET, stamp, BODY), now=NOW)


def test_the_tolerance_can_be_widened_by_the_receiver() -> None:
    stamp = NOW - 600

    assert verify_signature(SECRET, stamp, BODY, sign(SECRET, stamp, BODY), 900, now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [
        (None, "v1=00"),
        (str(NOW), None),
        (str(NOW), ""),
        ("hôm nay", "v1=00"),
        (str(NOW), "v1=not-hex"),
        (str(NOW), "sha256=" + "0" * 64),
    ],
)
def test_missing_or_malformed_headers_fail(timestamp: str | None, header: str | None) -> None:
    assert not verify_signature(SECRET, timestamp, BODY, header, now=NOW)


def test_a_header_signed_with_an_old_and_a_new_secret_verifies_with_either() -> None:
    header = f"{sign('cũ', NOW, BODY)}, {sign(SECRET, NOW, BODY)}"

    assert verify_signature(SECRET, NOW, BODY, header, now=NOW)
    assert verify_signature("cũ", NOW, BODY, header, now=NOW)


def test_the_channel_trusts_only_a_correctly_signed_request_from_the_province() -> None:
    channel = WebhookChannel()
    settings = WebhookSettings(url="https://mot-cua.angiang.gov.vn/hooks/motcua", secret=SECRET)
    stamp = str(int(time.time()))
    headers = {"x-motcua-timestamp": stamp, "x-motcua-signature": sign(SECRET, stamp, BODY)}

    signed = RawRequest(method="POST", headers=headers, query={}, body=BODY)
    tampered = RawRequest(method="POST", headers=headers, query={}, body=BODY + b" ")
    unsigned = RawRequest(method="POST", headers={}, query={}, body=BODY)

    assert channel.verify(signed, settings)
    assert not channel.verify(tampered, settings)
    assert not channel.verify(unsigned, settings)


async def test_a_receiver_with_another_secret_refuses_the_notice_permanently(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    notice: Rendered,
    context: Callable[[str], SendContext],
) -> None:
    wrong = WebhookSettings(url=receiver.url, secret=OTHER_KEY)

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, Address(), wrong, context("notice-0100"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.PERMANENT, "401")
    [request] = receiver.requests
    assert not request.signature_valid and receiver.received == []
