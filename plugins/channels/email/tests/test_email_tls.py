"""Mail to the province's server travels encrypted, STARTTLS or TLS from the first byte,
and a certificate the machine does not trust stops it. The certificate is made at test
time by the openssl command and trusted through SSL_CERT_FILE, as a province's own CA
would be through the system's store; without openssl these tests are skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

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
LOGIN_KEY = "mật-khẩu-thử"
Security = Literal["starttls", "tls"]


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_a_notice_travels_encrypted_and_logs_in_over_tls(
    channel: EmailChannel,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
    certificate: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    security: Security,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    server = SmtpStandIn(
        security=security,
        certificate=certificate,
        username="thongbao@angiang.gov.vn",
        password=LOGIN_KEY,
    )
    async with server:
        await channel.send(notice, CITIZEN, settings_for(server), context("notice-0301"))
        await channel.check_settings(settings_for(server), context("check"))

        [mail] = await server.wait_for(1)
    assert mail.tls and mail.authenticated_as == "thongbao@angiang.gov.vn"
    assert mail.subject == notice.subject


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_a_certificate_the_machine_does_not_trust_is_a_configuration_failure(
    channel: EmailChannel,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
    certificate: tuple[str, str],
    security: Security,
) -> None:
    async with SmtpStandIn(security=security, certificate=certificate) as server:
        with pytest.raises(DeliveryFailure) as failure:
            await channel.send(notice, CITIZEN, settings_for(server), context("notice-0302"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "tls")
    assert server.received == []


async def test_plain_text_to_a_server_requiring_starttls_is_a_configuration_failure(
    channel: EmailChannel,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
    certificate: tuple[str, str],
) -> None:
    async with SmtpStandIn(security="starttls", certificate=certificate) as server:
        with pytest.raises(DeliveryFailure) as failure:
            await channel.send(
                notice, CITIZEN, settings_for(server, security="none"), context("notice-0303")
            )

    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "530")
