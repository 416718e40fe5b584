"""How the receiver's answers and silences become temporary, permanent or configuration
failures, as PROVIDERS.md says: 429, 5xx and time-outs are temporary, other 4xx permanent."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from motcua.notices.channel import (
    Address,
    DeliveryFailure,
    FailureKind,
    Rendered,
    SendContext,
)
from motcua_channel_webhook import WebhookChannel, WebhookSettings
from motcua_channel_webhook.standin import WebhookReceiver

Context = Callable[[str], SendContext]
ANY_KEY = "khóa"


@pytest.mark.parametrize("status", [200, 201, 202, 204])
async def test_any_2xx_answer_is_a_delivery(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    settings: WebhookSettings,
    notice: Rendered,
    context: Context,
    status: int,
) -> None:
    receiver.answer_next(1, status)

    sent = await channel.send(notice, Address(), settings, context("notice-0200"))

    assert sent.provider_id == "notice-0200"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, FailureKind.TEMPORARY),
        (500, FailureKind.TEMPORARY),
        (502, FailureKind.TEMPORARY),
        (503, FailureKind.TEMPORARY),
        (504, FailureKind.TEMPORARY),
        (400, FailureKind.PERMANENT),
        (401, FailureKind.PERMANENT),
        (403, FailureKind.PERMANENT),
        (404, FailureKind.PERMANENT),
        (410, FailureKind.PERMANENT),
        (422, FailureKind.PERMANENT),
        (301, FailureKind.CONFIGURATION),
    ],
)
async def test_each_answer_maps_to_its_failure_kind_keeping_the_status_as_code(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    settings: WebhookSettings,
    notice: Rendered,
    context: Context,
    status: int,
    kind: FailureKind,
) -> None:
    receiver.answer_next(1, status)

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, Address(), settings, context("notice-0201"))

    assert (failure.value.kind, failure.value.code) == (kind, str(status))


async def test_after_two_503_answers_the_third_attempt_is_delivered(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    settings: WebhookSettings,
    notice: Rendered,
    context: Context,
) -> None:
    receiver.answer_next(2, 503)
    kinds = []
    for _ in range(2):
        with pytest.raises(DeliveryFailure) as failure:
            await channel.send(notice, Address(), settings, context("notice-0202"))
        kinds.append(failure.value.kind)

    await channel.send(notice, Address(), settings, context("notice-0202"))

    assert kinds == [FailureKind.TEMPORARY, FailureKind.TEMPORARY]
    assert [r.status for r in receiver.requests] == [503, 503, 204]
    assert len(receiver.received) == 1


async def test_a_receiver_that_does_not_answer_in_time_is_a_temporary_failure(
    channel: WebhookChannel, receiver: WebhookReceiver, notice: Rendered, context: Context
) -> None:
    receiver.stall_next(1)
    impatient = WebhookSettings(url=receiver.url, secret=receiver.secret, timeout=0.2)

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, Address(), impatient, context("notice-0203"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "timeout")


async def test_a_receiver_nobody_listens_for_is_a_temporary_failure(
    channel: WebhookChannel, notice: Rendered, context: Context
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = WebhookSettings(url=f"http://127.0.0.1:{port}/hooks/motcua", secret=ANY_KEY)

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, Address(), closed, context("notice-0204"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "network")


async def test_a_receiver_that_is_down_fails_temporarily_until_it_is_back(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    settings: WebhookSettings,
    notice: Rendered,
    context: Context,
) -> None:
    receiver.down = True
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, Address(), settings, context("notice-0205"))
    receiver.down = False

    await channel.send(notice, Address(), settings, context("notice-0205"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "503")
    assert len(receiver.received) == 1


@pytest.mark.parametrize("url", ["ftp://mot-cua.angiang.gov.vn/hooks", "mot-cua.angiang.gov.vn"])
async def test_a_url_that_is_not_http_is_a_configuration_failure(
    channel: WebhookChannel, notice: Rendered, context: Context, url: str
) -> None:
    settings = WebhookSettings(url=url, secret=ANY_KEY)

    with pytest.raises(DeliveryFailure) as on_send:
        await channel.send(notice, Address(), settings, context("notice-0206"))
    with pytest.raises(DeliveryFailure) as on_check:
        await channel.check_settings(settings, context("check"))

    assert on_send.value.kind == on_check.value.kind == FailureKind.CONFIGURATION


async def test_settings_pointing_at_a_receiver_pass_the_check(
    channel: WebhookChannel, settings: WebhookSettings, context: Context
) -> None:
    await channel.check_settings(settings, context("check"))


async def test_random_failures_of_the_receiver_repeat_for_the_same_seed(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    settings: WebhookSettings,
    notice: Rendered,
    context: Context,
) -> None:
    async def outcomes() -> list[bool]:
        results = []
        for n in range(20):
            try:
                await channel.send(notice, Address(), settings, context(f"notice-03{n:02}"))
                results.append(True)
            except DeliveryFailure as failure:
                assert failure.kind == FailureKind.TEMPORARY
                results.append(False)
        return results

    receiver.fail_randomly(0.3, seed=7)
    first = await outcomes()
    receiver.fail_randomly(0.3, seed=7)
    second = await outcomes()

    assert first == second and 0 < first.count(False) < 20
