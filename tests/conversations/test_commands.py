"""The rules of reading a message and of the plugins' inbound checks, without servers."""

import time

import pytest

from motcua.conversations.commands import read
from motcua.notices.channel import RawRequest
from motcua_channel_webhook import WebhookChannel, WebhookSettings
from motcua_channel_webhook.standin import WebhookReceiver


@pytest.mark.parametrize(
    ("text", "kind", "argument"),
    [
        ("Hồ sơ của tôi", "my_dossiers", ""),
        ("HO SO CUA TOI", "my_dossiers", ""),
        ("tra cứu TT.X.AN-261128-0001", "lookup", "TT.X.AN-261128-0001"),
        ("hỏi hồ sơ tt.x.an-261128-0001 sao rồi", "lookup", "tt.x.an-261128-0001"),
        ("thu tuc dang ky ket hon", "procedures", "dang ky ket hon"),
        ("Đăng ký tin tức Xã An Bình", "subscribe", "tin tức Xã An Bình"),
        ("hủy đăng ký", "unsubscribe", ""),
        ("sđt 0912 345 678", "link_phone", "0912 345 678"),
        ("0912345678", "link_phone", "0912345678"),
        ("Xóa dữ liệu", "erase", ""),
        ("du lieu cua toi", "my_data", ""),
        ("<script>alert(1)</script> 🙏", "question", "<script>alert(1)</script> 🙏"),
        ("3", "question", "3"),  # no rating offered: a question like any other
    ],
)
def test_a_message_reads_as_its_command_with_or_without_diacritics(text, kind, argument):
    command = read(text)
    assert (command.kind, command.argument) == (kind, argument)


def test_a_rating_is_read_only_when_one_was_offered():
    assert read("3", rating_pending=True).levels == (3, 3)
    assert read("3 1", rating_pending=True).levels == (3, 1)
    assert read("không hài lòng", rating_pending=True).levels == (1, 1)
    assert read("123456", code_pending=True).kind == "confirm_code"


def test_the_provinces_system_posts_signed_messages_and_nothing_else_is_trusted():
    receiver = WebhookReceiver("s3cret")
    settings = WebhookSettings(url="http://127.0.0.1/x", secret="s3cret")
    body, headers = receiver.signed_message(
        {"id": "evt-1", "kind": "text", "sender": "portal-42", "text": "Xin chào"}
    )
    request = RawRequest(
        method="POST", headers={k.lower(): v for k, v in headers.items()}, query={}, body=body
    )
    channel = WebhookChannel()
    assert channel.verify(request, settings)
    [event] = channel.parse(request, settings)
    assert (event.kind, event.sender, event.text, event.event_id) == (
        "text",
        "portal-42",
        "Xin chào",
        "evt-1",
    )
    stale_body, stale_headers = receiver.signed_message(
        {"id": "evt-2", "kind": "text", "sender": "p"}, timestamp=int(time.time()) - 3600
    )
    stale = RawRequest(
        method="POST",
        headers={k.lower(): v for k, v in stale_headers.items()},
        query={},
        body=stale_body,
    )
    assert not channel.verify(stale, settings)
    assert not channel.verify(RawRequest(method="POST", headers={}, query={}, body=body), settings)
