"""What Zalo receives when a notice goes out, and how a send that cannot work fails."""

from __future__ import annotations

import socket

import msgspec
import pytest

from motcua.notices.channel import (
    Address,
    DeliveryFailure,
    FailureKind,
    Rendered,
    SendContext,
    discover,
    resolve_settings,
    secret_fields,
)
from motcua_channel_zalo import ZaloChannel, ZaloSettings
from motcua_channel_zalo.standin import ZaloStandIn

FOLLOWER = Address(zalo_user_id="2468013579")
PHONE = Address(phone="+84912345678")
RECEIVED = Rendered(
    kind="received",
    text="Hồ sơ AG-2025-000123 đã được tiếp nhận. Ngày hẹn trả kết quả: 12/09/2025.",
    template_data={"dossier_code": "AG-2025-000123", "due_date": "12/09/2025"},
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_follower_gets_the_text_through_the_oa_with_the_access_token_header(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    sent = await channel.send(RECEIVED, FOLLOWER, settings, ctx)

    [call] = standin.calls
    assert (call.method, call.path) == ("POST", "/v3.0/oa/message/cs")
    assert call.headers["access_token"] == settings.access_token
    assert msgspec.json.decode(call.body) == {
        "recipient": {"user_id": "2468013579"},
        "message": {"text": RECEIVED.text},
    }
    [message] = await standin.received(timeout=5)
    assert (message.channel, message.user_id, message.text) == ("oa", "2468013579", RECEIVED.text)
    assert (sent.provider, sent.provider_id) == ("zalo-oa", message.msg_id)


async def test_a_phone_gets_the_approved_template_with_84_and_the_notice_id_as_tracking_id(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    sent = await channel.send(RECEIVED, PHONE, settings, ctx)

    [call] = standin.calls
    assert (call.method, call.path) == ("POST", "/message/template")
    assert call.headers["access_token"] == settings.access_token
    assert msgspec.json.decode(call.body) == {
        "phone": "84912345678",
        "template_id": "tpl-received",
        "template_data": {"dossier_code": "AG-2025-000123", "due_date": "12/09/2025"},
        "tracking_id": "notice-0001",
    }
    [message] = standin.received
    assert (sent.provider, sent.provider_id) == ("zalo-zns", message.msg_id)


async def test_the_template_is_chosen_by_the_notice_kind(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    ready = Rendered(kind="result_ready", text="Đã có kết quả.", template_data={"code": "X"})
    await channel.send(ready, PHONE, settings, ctx)
    assert standin.received[0].template_id == "tpl-result-ready"


async def test_a_follower_who_also_has_a_phone_is_reached_through_the_oa(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    both = Address(zalo_user_id="2468013579", phone="+84912345678")
    sent = await channel.send(RECEIVED, both, settings, ctx)
    assert sent.provider == "zalo-oa"
    assert [m.channel for m in standin.received] == ["oa"]


async def test_a_resend_of_the_same_notice_carries_the_same_tracking_id(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    await channel.send(RECEIVED, PHONE, settings, ctx)
    await channel.send(RECEIVED, PHONE, settings, ctx)
    assert [m.tracking_id for m in standin.received] == ["notice-0001", "notice-0001"]


async def test_a_phone_without_a_template_for_the_kind_fails_permanently_without_a_call(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    other = Rendered(kind="supplement_requested", text="Cần bổ sung giấy tờ.")
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(other, PHONE, settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.PERMANENT, "no-template")
    assert standin.calls == []


async def test_an_address_without_zalo_id_or_phone_fails_permanently(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    email_only = Address(email="citizen@example.vn")
    assert not channel.reaches(email_only)
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(RECEIVED, email_only, settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.PERMANENT, "no-address")
    assert standin.calls == []


def test_the_channel_reaches_a_zalo_user_id_or_a_phone(channel: ZaloChannel) -> None:
    assert channel.reaches(FOLLOWER)
    assert channel.reaches(PHONE)
    assert not channel.reaches(Address())


async def test_a_provider_answering_503_is_a_temporary_failure(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    standin.set_down()
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(RECEIVED, FOLLOWER, settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "http-503")
    standin.set_down(False)
    await channel.send(RECEIVED, FOLLOWER, settings, ctx)
    assert len(standin.received) == 1


async def test_a_provider_refusing_connections_is_a_temporary_failure(
    channel: ZaloChannel, standin: ZaloStandIn, ctx: SendContext
) -> None:
    unreachable = f"http://127.0.0.1:{closed_port()}"
    settings = ZaloSettings(**standin.settings(api_base=unreachable))
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(RECEIVED, FOLLOWER, settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "network")


async def test_a_wrong_base_address_is_a_configuration_failure(
    channel: ZaloChannel, standin: ZaloStandIn, ctx: SendContext
) -> None:
    settings = ZaloSettings(**standin.settings(api_base=f"{standin.base_url}/nowhere"))
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(RECEIVED, FOLLOWER, settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "http-404")


async def test_random_failures_are_temporary_and_repeat_with_the_same_seed(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    async def outcomes() -> list[str]:
        standin.fail_randomly(0.5, seed=11)
        seen = []
        for _ in range(12):
            try:
                await channel.send(RECEIVED, FOLLOWER, settings, ctx)
                seen.append("sent")
            except DeliveryFailure as failure:
                assert failure.kind is FailureKind.TEMPORARY
                seen.append(failure.code)
        return seen

    first = await outcomes()
    assert set(first) == {"sent", "-32"}
    assert await outcomes() == first


def test_the_settings_table_resolves_with_secrets_read_from_the_environment() -> None:
    table = {
        "app_id": "1234567890",
        "oa_id": "9876543210",
        "app_secret": "env:AG_ZALO_APP_SECRET",
        "oa_secret_key": "env:AG_ZALO_OA_SECRET",
        "access_token": "env:AG_ZALO_ACCESS_TOKEN",
        "refresh_token": "env:AG_ZALO_REFRESH_TOKEN",
        "zns_templates": {"received": "301234"},
    }
    environ = {
        "AG_ZALO_APP_SECRET": "app-secret",
        "AG_ZALO_OA_SECRET": "oa-secret",
        "AG_ZALO_ACCESS_TOKEN": "access",
        "AG_ZALO_REFRESH_TOKEN": "refresh",
    }
    settings = resolve_settings(ZaloChannel, table, environ)
    assert isinstance(settings, ZaloSettings)
    assert (settings.app_secret, settings.refresh_token) == ("app-secret", "refresh")
    assert settings.api_base == "https://openapi.zalo.me"
    assert settings.zns_api_base == "https://business.openapi.zalo.me"
    assert settings.oauth_base == "https://oauth.zaloapp.com"
    assert settings.zns_templates == {"received": "301234"}
    assert secret_fields(ZaloSettings) == {
        "app_secret",
        "oa_secret_key",
        "access_token",
        "refresh_token",
    }


def test_an_unknown_setting_is_a_configuration_failure() -> None:
    with pytest.raises(DeliveryFailure) as failure:
        resolve_settings(ZaloChannel, {"app_id": "1", "oa_id": "2", "colour": "blue"}, {})
    assert failure.value.kind is FailureKind.CONFIGURATION


def test_the_plugin_is_found_under_its_entry_point() -> None:
    assert discover()["zalo"] is ZaloChannel
    capabilities = ZaloChannel.capabilities
    assert capabilities.max_chars == 2000
    assert capabilities.needs_opt_in and capabilities.delivery_receipts
