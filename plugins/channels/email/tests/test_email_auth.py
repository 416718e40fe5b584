"""The province's mail server wants a login: the plugin gives it, and a wrong or missing
one is the province's configuration to fix, never the citizen's fault."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from motcua.notices.channel import (
    Address,
    DeliveryFailure,
    FailureKind,
    Rendered,
    SendContext,
)
from motcua_channel_email import EmailChannel, EmailSettings
from motcua_channel_email.standin import SmtpStandIn

Context = Callable[[str], SendContext]
Settings = Callable[..., EmailSettings]
CITIZEN = Address(email="nguoidan@example.vn")
WRONG_KEY = "mật-khẩu-sai"


async def test_the_plugin_logs_in_before_sending(
    channel: EmailChannel,
    smtp_with_auth: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    await channel.send(notice, CITIZEN, settings_for(smtp_with_auth), context("notice-0101"))

    [mail] = await smtp_with_auth.wait_for(1)
    assert mail.authenticated_as == "thongbao@angiang.gov.vn"


async def test_the_settings_check_passes_with_the_right_password(
    channel: EmailChannel, smtp_with_auth: SmtpStandIn, settings_for: Settings, context: Context
) -> None:
    await channel.check_settings(settings_for(smtp_with_auth), context("check"))

    assert smtp_with_auth.received == []  # a check sends nothing


async def test_a_wrong_password_is_a_configuration_failure_on_send_and_on_check(
    channel: EmailChannel,
    smtp_with_auth: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    settings = settings_for(smtp_with_auth, password=WRONG_KEY)

    with pytest.raises(DeliveryFailure) as on_send:
        await channel.send(notice, CITIZEN, settings, context("notice-0102"))
    with pytest.raises(DeliveryFailure) as on_check:
        await channel.check_settings(settings, context("check"))

    assert (on_send.value.kind, on_send.value.code) == (FailureKind.CONFIGURATION, "535")
    assert (on_check.value.kind, on_check.value.code) == (FailureKind.CONFIGURATION, "535")
    assert smtp_with_auth.received == []


async def test_no_login_where_the_server_requires_one_is_a_configuration_failure(
    channel: EmailChannel,
    smtp_with_auth: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    settings = settings_for(smtp_with_auth, username="", password="")

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings, context("notice-0103"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "530")


async def test_a_login_the_server_does_not_offer_is_a_configuration_failure(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    settings = settings_for(smtp, username="thongbao@angiang.gov.vn", password=WRONG_KEY)

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings, context("notice-0104"))

    assert failure.value.kind == FailureKind.CONFIGURATION
