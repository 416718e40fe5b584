"""eSMS: what the gateway receives, and what each of its answers means for delivery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from motcua.notices.channel import (
    Address,
    DeliveryFailure,
    FailureKind,
    Rendered,
    SendContext,
)
from motcua_channel_sms import SmsChannel, SmsSettings
from motcua_channel_sms.standin import EsmsStandIn

Account = Callable[..., dict[str, Any]]
Settings = Callable[..., SmsSettings]
Context = Callable[..., SendContext]

CITIZEN = Address(phone="+84912345678")


async def test_esms_receives_the_documented_request_with_the_notice_id_and_callback(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    ctx = context("notice-0001")
    sent = await channel.send(notice, CITIZEN, settings(esms_account()), ctx)

    [sms] = esms.received
    assert sms.phone == "0912345678"
    assert sms.text == notice.text
    assert sms.brandname == "UBND AG"
    assert sms.request_id == "notice-0001"
    assert sms.callback_url == ctx.receipt_url
    assert sent.provider_id == sms.provider_id
    assert sent.provider == "esms"


async def test_a_wrong_secret_key_is_a_configuration_failure_with_the_esms_code(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(secret_key="not-the-secret"))
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, tenant, context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "101")
    assert esms.received == []


@pytest.mark.parametrize(
    "phone",
    ["+84912345678", "+84 912 345 678", "+84 0912 345 678", "84912345678", "0912345678"],
)
async def test_every_usual_writing_of_a_number_reaches_esms_in_national_form(
    phone: str,
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    await channel.send(notice, Address(phone=phone), settings(esms_account()), context())
    assert [sms.phone for sms in esms.received] == ["0912345678"]


@pytest.mark.parametrize("phone", ["+33612345678", "+84 12", "0912-abc-678"])
async def test_a_number_no_vietnamese_gateway_carries_fails_permanently_without_a_call(
    phone: str,
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, Address(phone=phone), settings(esms_account()), context())
    assert failure.value.kind is FailureKind.PERMANENT
    assert phone not in str(failure.value)  # failures are logged: no number in them
    assert esms.calls == 0


def test_only_citizens_with_a_phone_are_reachable() -> None:
    channel = SmsChannel()
    assert channel.reaches(Address(phone="+84912345678"))
    assert not channel.reaches(Address(email="cong.dan@example.vn"))


async def test_sending_the_same_notice_again_is_sent_once_and_reported_as_sent(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account())
    first = await channel.send(notice, CITIZEN, tenant, context("notice-0002"))
    again = await channel.send(notice, CITIZEN, tenant, context("notice-0002"))

    assert len(esms.received) == 1
    assert first.provider_id == esms.received[0].provider_id
    assert again.provider_id == "dup-notice-0002"  # eSMS's 124 carries no SMSID


async def test_a_duplicate_answer_that_carries_the_smsid_keeps_it(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    esms.duplicate_echoes_smsid = True
    try:
        tenant = settings(esms_account())
        first = await channel.send(notice, CITIZEN, tenant, context("notice-0003"))
        again = await channel.send(notice, CITIZEN, tenant, context("notice-0003"))
    finally:
        esms.duplicate_echoes_smsid = False
    assert again.provider_id == first.provider_id
    assert len(esms.received) == 1


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("101", FailureKind.CONFIGURATION),  # bad key
        ("103", FailureKind.CONFIGURATION),  # no balance
        ("104", FailureKind.CONFIGURATION),  # brandname not registered
        ("146", FailureKind.CONFIGURATION),  # template not registered
        ("99", FailureKind.TEMPORARY),
        ("108", FailureKind.TEMPORARY),  # any other code
    ],
)
async def test_each_esms_code_maps_to_its_failure_kind_and_keeps_the_code(
    code: str,
    kind: FailureKind,
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    esms.fail_next(1, code)
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings(esms_account()), context())
    assert (failure.value.kind, failure.value.code) == (kind, code)


async def test_an_unregistered_brandname_is_refused_by_esms_as_configuration(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(brandname="UBND KHAC"))
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, tenant, context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "104")


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_and_rate_limits_are_temporary(
    status: int,
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    esms.fail_next(1, "99", http_status=status)
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings(esms_account()), context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, f"http-{status}")


async def test_a_gateway_that_refuses_connections_is_a_temporary_failure(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    await esms.go_down(refuse=True)
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings(esms_account()), context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "network")


async def test_a_gateway_slower_than_the_time_limit_is_a_temporary_failure(
    clock: Any,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    channel = SmsChannel(clock=clock, timeout=0.05)
    esms.slow_down(0.3)
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings(esms_account()), context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "timeout")


async def test_a_wrong_api_base_is_a_configuration_failure(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(api_base=esms.base_url + "/elsewhere"))
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, tenant, context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "http-404")
