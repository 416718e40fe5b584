"""SpeedSMS: what the gateway receives, and what each of its answers means for delivery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from motcua.notices.channel import Address, DeliveryFailure, FailureKind, Rendered, SendContext
from motcua_channel_sms import SmsChannel, SmsSettings
from motcua_channel_sms.standin import SpeedSmsStandIn

Account = Callable[..., dict[str, Any]]
Settings = Callable[..., SmsSettings]
Context = Callable[..., SendContext]

CITIZEN = Address(phone="+84912345678")


async def test_speedsms_receives_a_brandname_message_to_the_international_number(
    channel: SmsChannel,
    speedsms: SpeedSmsStandIn,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    sent = await channel.send(notice, CITIZEN, settings(speedsms_account()), context())

    [sms] = speedsms.received
    assert sms.phone == "84912345678"
    assert sms.text == notice.text
    assert sms.brandname == "UBND AG"
    assert sent.provider_id == sms.provider_id  # the tranId, as a string
    assert sent.provider_id.isdigit()
    assert sent.provider == "speedsms"


async def test_a_refused_access_token_is_a_configuration_failure(
    channel: SmsChannel,
    speedsms: SpeedSmsStandIn,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(speedsms_account(api_key="not-the-token"))
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, tenant, context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "http-401")
    assert speedsms.received == []


async def test_a_number_speedsms_lists_as_invalid_fails_permanently(
    channel: SmsChannel,
    speedsms: SpeedSmsStandIn,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    landline = Address(phone="+842963123456")  # a landline: no SMS
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, landline, settings(speedsms_account()), context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.PERMANENT, "105")
    assert "2963123456" not in str(failure.value)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("105", FailureKind.PERMANENT),  # phone number invalid
        ("007", FailureKind.CONFIGURATION),  # IP locked
        ("008", FailureKind.CONFIGURATION),  # account blocked
        ("009", FailureKind.CONFIGURATION),  # account not allowed to call the API
        ("101", FailureKind.CONFIGURATION),  # invalid parameters: the sender
        ("300", FailureKind.CONFIGURATION),  # balance exhausted
        ("500", FailureKind.TEMPORARY),  # internal error
        ("113", FailureKind.TEMPORARY),  # any other code
    ],
)
async def test_each_speedsms_code_maps_to_its_failure_kind_and_keeps_the_code(
    code: str,
    kind: FailureKind,
    channel: SmsChannel,
    speedsms: SpeedSmsStandIn,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    speedsms.fail_next(1, code)
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings(speedsms_account()), context())
    assert (failure.value.kind, failure.value.code) == (kind, code)


async def test_speedsms_rate_limiting_is_temporary(
    channel: SmsChannel,
    speedsms: SpeedSmsStandIn,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    speedsms.fail_next(1, "429", http_status=429)
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings(speedsms_account()), context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "http-429")


async def test_a_down_speedsms_is_a_temporary_failure(
    channel: SmsChannel,
    speedsms: SpeedSmsStandIn,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    await speedsms.go_down()
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings(speedsms_account()), context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "http-503")
