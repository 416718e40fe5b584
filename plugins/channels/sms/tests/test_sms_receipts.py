"""eSMS delivery reports: GETs to the CallbackUrl, trusted by the tenant's token only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from motcua.notices.channel import Address, RawRequest, Receipt, Rendered, SendContext
from motcua_channel_sms import SmsChannel, SmsSettings
from motcua_channel_sms.standin import EsmsStandIn

Account = Callable[..., dict[str, Any]]
Settings = Callable[..., SmsSettings]
Context = Callable[..., SendContext]

CITIZEN = Address(phone="+84912345678")


def report(**query: str) -> RawRequest:
    return RawRequest(method="GET", headers={}, query=query, body=b"")


RIGHT, WRONG = "the-right-token", "the-wrong-token"


async def test_a_delivered_report_reaches_the_callback_and_reads_as_delivered(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
    receipt_inbox: Any,
) -> None:
    tenant = settings(esms_account())
    sent = await channel.send(notice, CITIZEN, tenant, context("notice-0100"))
    [sms] = esms.received
    receipt_inbox.requests.clear()

    answer = await esms.deliver_receipt(sms)

    assert answer.status_code == 200
    [request] = receipt_inbox.requests
    assert request.method == "GET"
    assert channel.verify(request, tenant)
    assert channel.parse_receipts(request, tenant) == [
        Receipt(delivered=True, notice_id="notice-0100", provider_id=sent.provider_id)
    ]


async def test_a_receipt_address_without_a_token_gets_the_tenants_token(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
    receipt_inbox: Any,
) -> None:
    tenant = settings(esms_account())
    await channel.send(notice, CITIZEN, tenant, context(with_token=False))
    receipt_inbox.requests.clear()

    await esms.deliver_receipt(esms.received[0])

    [request] = receipt_inbox.requests
    assert request.query["token"] == tenant.callback_token
    assert channel.verify(request, tenant)


async def test_an_undelivered_report_keeps_the_error_info_esms_gives(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
    receipt_inbox: Any,
) -> None:
    tenant = settings(esms_account())
    await channel.send(notice, CITIZEN, tenant, context())
    receipt_inbox.requests.clear()

    await esms.deliver_receipt(esms.received[0], delivered=False, error_info="subscriber absent")

    [request] = receipt_inbox.requests
    [receipt] = channel.parse_receipts(request, tenant)
    assert (receipt.delivered, receipt.code) == (False, "subscriber absent")
    assert receipt.provider_id == esms.received[0].provider_id


def test_a_report_of_a_message_still_on_its_way_is_not_a_receipt() -> None:
    channel = SmsChannel()
    for status in ("1", "2", "7"):
        query = {"SMSID": "a1", "SendStatus": status, "SendSuccess": "0", "SendFailed": "0"}
        assert channel.parse_receipts(report(**query), _settings()) == []


def test_a_message_esms_rejected_is_reported_undelivered() -> None:
    query = {"SMSID": "a1", "SendStatus": "4", "SendSuccess": "0", "SendFailed": "1"}
    [receipt] = SmsChannel().parse_receipts(report(**query), _settings())
    assert (receipt.delivered, receipt.code) == (False, "SendStatus=4")


def test_a_finished_report_with_no_success_is_undelivered() -> None:
    query = {"SMSID": "a1", "SendStatus": "5", "SendSuccess": "0", "SendFailed": "1"}
    [receipt] = SmsChannel().parse_receipts(report(**query), _settings())
    assert not receipt.delivered
    assert receipt.notice_id is None  # eSMS often leaves RequestId empty


def test_a_request_without_an_smsid_is_not_a_receipt() -> None:
    assert SmsChannel().parse_receipts(report(SendStatus="5", SendSuccess="1"), _settings()) == []


def test_a_callback_with_a_wrong_or_missing_token_is_refused() -> None:
    channel = SmsChannel()
    tenant = _settings(callback_token=RIGHT)
    assert channel.verify(report(token=RIGHT, SMSID="a1"), tenant)
    assert not channel.verify(report(token=WRONG, SMSID="a1"), tenant)
    assert not channel.verify(report(SMSID="a1"), tenant)


def test_without_a_callback_token_every_callback_is_refused() -> None:
    channel = SmsChannel()
    unset = _settings(callback_token="")
    assert not channel.verify(report(token="", SMSID="a1"), unset)
    assert not channel.verify(report(token=WRONG, SMSID="a1"), unset)


def _settings(**table: Any) -> SmsSettings:
    provider = {"kind": "esms", "api_key": "k", "secret_key": "s", "brandname": "UBND AG"}
    return msgspec.convert({"providers": [provider], **table}, SmsSettings)
