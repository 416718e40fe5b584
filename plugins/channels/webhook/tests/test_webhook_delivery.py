"""A notice reaches the province's own system as the signed JSON PROVIDERS.md describes."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
import pytest

from motcua.notices.channel import (
    Address,
    Rendered,
    SendContext,
    discover,
    resolve_settings,
    secret_fields,
)
from motcua_channel_webhook import WebhookChannel, WebhookSettings, sign, verify_signature
from motcua_channel_webhook.standin import WebhookReceiver

Context = Callable[[str], SendContext]
CITIZEN = Address(phone="+84912345678")


async def test_a_notice_arrives_as_the_documented_json_with_a_valid_signature(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    settings: WebhookSettings,
    notice: Rendered,
    context: Context,
) -> None:
    await channel.send(notice, CITIZEN, settings, context("notice-0001"))

    [request] = await receiver.wait_for(1)
    assert request.method == "POST" and request.path == "/hooks/motcua"
    assert request.headers["content-type"] == "application/json"
    assert list(request.payload) == [
        "id", "tenant", "kind", "dossier_code", "status", "text", "created_at",
    ]  # fmt: skip
    assert request.payload == {
        "id": "notice-0001",
        "tenant": "an-giang",
        "kind": "result_ready",
        "dossier_code": "000.00.12.H01-250904-0001",
        "status": "completed",
        "text": notice.text,
        "created_at": "2025-09-04T15:00:00+07:00",
    }
    assert request.signature_valid


async def test_the_signature_covers_exactly_the_bytes_sent_at_the_stated_second(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    settings: WebhookSettings,
    notice: Rendered,
    context: Context,
) -> None:
    await channel.send(notice, CITIZEN, settings, context("notice-0002"))

    [request] = await receiver.wait_for(1)
    timestamp, signature = (
        request.headers["x-motcua-timestamp"],
        request.headers["x-motcua-signature"],
    )
    assert abs(int(timestamp) - time.time()) < 5
    assert signature == sign(settings.secret, timestamp, request.body)
    assert signature.startswith("v1=") and len(signature) == 3 + 64
    assert verify_signature(settings.secret, timestamp, request.body, signature)


async def test_without_an_id_from_the_receiver_the_notice_id_identifies_the_delivery(
    channel: WebhookChannel, settings: WebhookSettings, notice: Rendered, context: Context
) -> None:
    sent = await channel.send(notice, CITIZEN, settings, context("notice-0003"))

    assert sent.provider_id == "notice-0003"


async def test_a_receiver_that_answers_with_its_own_id_gives_that_id(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    settings: WebhookSettings,
    notice: Rendered,
    context: Context,
) -> None:
    receiver.assign_ids = True

    sent = await channel.send(notice, CITIZEN, settings, context("notice-0004"))

    assert sent.provider_id.startswith("rcv-")


async def test_a_resend_carries_the_same_id_so_the_receiver_can_drop_it(
    channel: WebhookChannel,
    receiver: WebhookReceiver,
    settings: WebhookSettings,
    notice: Rendered,
    context: Context,
) -> None:
    await channel.send(notice, CITIZEN, settings, context("notice-0005"))
    await channel.send(notice, CITIZEN, settings, context("notice-0005"))

    first, second = await receiver.wait_for(2)
    assert first.payload["id"] == second.payload["id"] == "notice-0005"


async def test_notice_data_the_core_did_not_fill_is_sent_as_null(
    channel: WebhookChannel, receiver: WebhookReceiver, settings: WebhookSettings, context: Context
) -> None:
    bare = Rendered(kind="reminder", text="Nhắc việc")

    await channel.send(bare, CITIZEN, settings, context("notice-0006"))

    [request] = await receiver.wait_for(1)
    assert request.payload["tenant"] is None and request.payload["dossier_code"] is None
    assert request.payload["kind"] == "reminder" and request.payload["text"] == "Nhắc việc"


@pytest.mark.parametrize("to", [Address(), Address(email="a@example.vn"), CITIZEN])
def test_the_province_system_receives_every_notice_whoever_it_is_for(
    channel: WebhookChannel, to: Address
) -> None:
    assert channel.reaches(to)


def test_the_plugin_is_found_by_its_entry_point() -> None:
    assert discover()["webhook"] is WebhookChannel


def test_the_tenant_toml_table_reads_the_secret_from_the_environment() -> None:
    table = {"url": "https://mot-cua.angiang.gov.vn/hooks/motcua", "secret": "env:AG_HOOK"}
    key = "khóa-của-an-giang"

    settings = resolve_settings(WebhookChannel, table, {"AG_HOOK": key})

    assert settings == WebhookSettings(url=table["url"], secret=key, timeout=10)
    assert secret_fields(WebhookSettings) == {"secret"}


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"url": "https://x.vn", "secret": "s", "retries": 3}, WebhookSettings)
