"""SMTP refusals and silences become temporary, permanent or configuration failures:
5xx for the recipient is permanent, 4xx and an unreachable server temporary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

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


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (550, FailureKind.PERMANENT),
        (551, FailureKind.PERMANENT),
        (552, FailureKind.PERMANENT),
        (553, FailureKind.PERMANENT),
        (554, FailureKind.PERMANENT),
        (450, FailureKind.TEMPORARY),
        (451, FailureKind.TEMPORARY),
        (452, FailureKind.TEMPORARY),
        (421, FailureKind.TEMPORARY),
    ],
)
async def test_a_refused_recipient_maps_to_its_failure_kind_keeping_the_smtp_code(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
    code: int,
    kind: FailureKind,
) -> None:
    smtp.reject("nguoidan@example.vn", code, f"{code // 100}.1.1 Recipient refused")

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0201"))

    assert (failure.value.kind, failure.value.code) == (kind, str(code))
    assert smtp.received == []


async def test_the_failure_detail_does_not_repeat_the_citizens_address(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    smtp.reject("nguoidan@example.vn", 550, "5.1.1 <nguoidan@example.vn>: User unknown")

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0202"))

    assert "nguoidan" not in str(failure.value) and "User unknown" in failure.value.detail


async def test_only_the_refused_citizen_fails_the_next_one_is_delivered(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    smtp.reject("nguoidan@example.vn")

    with pytest.raises(DeliveryFailure):
        await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0203"))
    await channel.send(notice, Address(email="khac@example.vn"), settings_for(smtp), context("n"))

    [mail] = await smtp.wait_for(1)
    assert mail.rcpt_tos == ["khac@example.vn"]


async def test_a_server_that_is_down_is_a_temporary_failure_until_it_is_back(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    settings = settings_for(smtp)
    await smtp.go_down()

    with pytest.raises(DeliveryFailure) as on_send:
        await channel.send(notice, CITIZEN, settings, context("notice-0204"))
    with pytest.raises(DeliveryFailure) as on_check:
        await channel.check_settings(settings, context("check"))
    await smtp.come_up()
    await channel.send(notice, CITIZEN, settings, context("notice-0204"))

    assert (on_send.value.kind, on_send.value.code) == (FailureKind.TEMPORARY, "connection")
    assert on_check.value.kind == FailureKind.TEMPORARY
    assert len(await smtp.wait_for(1)) == 1


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Takes the connection and never greets, as an overloaded server would."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()


async def test_a_server_that_never_answers_is_a_temporary_time_out(
    channel: EmailChannel, silent_server: int, notice: Rendered, context: Context
) -> None:
    settings = EmailSettings(
        host="127.0.0.1",
        port=silent_server,
        security="none",
        from_address="thongbao@angiang.gov.vn",
        timeout=0.2,
    )

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings, context("notice-0205"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "timeout")


async def test_after_two_temporary_refusals_the_third_attempt_is_delivered(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    smtp.fail_next(2)
    kinds = []
    for _ in range(2):
        with pytest.raises(DeliveryFailure) as failure:
            await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0206"))
        kinds.append((failure.value.kind, failure.value.code))

    await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0206"))

    assert kinds == [(FailureKind.TEMPORARY, "451")] * 2
    assert len(smtp.received) == 1


async def test_random_refusals_of_the_stand_in_repeat_for_the_same_seed(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    settings = settings_for(smtp)

    async def outcomes() -> list[bool]:
        results = []
        for n in range(20):
            try:
                await channel.send(notice, CITIZEN, settings, context(f"notice-03{n:02}"))
                results.append(True)
            except DeliveryFailure as failure:
                assert (failure.kind, failure.code) == (FailureKind.TEMPORARY, "451")
                results.append(False)
        return results

    smtp.fail_randomly(0.3, seed=7)
    first = await outcomes()
    smtp.fail_randomly(0.3, seed=7)
    second = await outcomes()

    assert first == second and 0 < first.count(False) < 20


async def test_starttls_that_the_server_does_not_offer_is_a_configuration_failure(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    settings = settings_for(smtp, security="starttls")

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings, context("notice-0207"))

    assert failure.value.kind == FailureKind.CONFIGURATION
    assert smtp.received == []  # never in clear text when TLS was asked for


async def test_implicit_tls_to_a_plain_text_server_is_a_configuration_failure(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    settings = settings_for(smtp, security="tls")

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings, context("notice-0208"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "tls")


async def test_a_from_address_that_is_not_an_email_is_a_configuration_failure(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    settings = settings_for(smtp, from_address="thongbao")

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, settings, context("notice-0209"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "bad-sender")


async def test_an_accented_domain_goes_through_a_server_with_smtputf8_only(
    channel: EmailChannel, settings_for: Settings, notice: Rendered, context: Context
) -> None:
    accented = Address(email="nguoidan@ví-dụ.vn")
    async with SmtpStandIn(smtputf8=True) as modern, SmtpStandIn(smtputf8=False) as old:
        await channel.send(notice, accented, settings_for(modern), context("notice-0210"))
        with pytest.raises(DeliveryFailure) as failure:
            await channel.send(notice, accented, settings_for(old), context("notice-0210"))

    assert modern.received[0].rcpt_tos == ["nguoidan@ví-dụ.vn"]
    assert (failure.value.kind, failure.value.code) == (FailureKind.PERMANENT, "smtputf8")
