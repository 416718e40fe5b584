"""Zalo access tokens expire within a day: the channel refreshes them itself, once."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import parse_qs

import pytest
from zalo_token_store import LaggingTokens, MemoryTokens

from motcua.notices.channel import Address, DeliveryFailure, FailureKind, Rendered, SendContext
from motcua_channel_zalo import ZaloChannel, ZaloSettings
from motcua_channel_zalo.standin import ZaloStandIn

FOLLOWER = Address(zalo_user_id="2468013579")
NOTICE = Rendered(kind="received", text="Hồ sơ AG-2025-000123 đã được tiếp nhận.")
STORED = {"access": "zalo.access_token", "refresh": "zalo.refresh_token"}


def refreshes(standin: ZaloStandIn) -> list[dict[str, str]]:
    """The forms of the refresh calls the stand-in answered."""
    return [
        {name: values[0] for name, values in parse_qs(call.body.decode()).items()}
        for call in standin.calls
        if call.path == "/v4/oa/access_token"
    ]


async def test_an_expired_token_is_refreshed_stored_and_the_send_retried_once(
    channel: ZaloChannel,
    settings: ZaloSettings,
    ctx: SendContext,
    tokens: MemoryTokens,
    standin: ZaloStandIn,
) -> None:
    standin.expire_access_token()
    sent = await channel.send(NOTICE, FOLLOWER, settings, ctx)

    rejected, refresh, retried = standin.calls
    assert (rejected.path, rejected.error) == ("/v3.0/oa/message/cs", -216)
    assert refresh.path == "/v4/oa/access_token"
    assert refresh.headers["secret_key"] == settings.app_secret
    assert refreshes(standin) == [
        {
            "app_id": settings.app_id,
            "grant_type": "refresh_token",
            "refresh_token": settings.refresh_token,
        }
    ]
    assert (retried.error, retried.headers["access_token"]) == (0, standin.access_token)
    assert tokens.values == {
        STORED["access"]: standin.access_token,
        STORED["refresh"]: standin.refresh_token,
    }
    [message] = standin.received
    assert sent.provider_id == message.msg_id


async def test_the_refresh_token_is_stored_before_the_access_token(
    channel: ZaloChannel,
    settings: ZaloSettings,
    ctx: SendContext,
    tokens: MemoryTokens,
    standin: ZaloStandIn,
) -> None:
    standin.expire_access_token()
    await channel.send(NOTICE, FOLLOWER, settings, ctx)
    assert [name for name, _ in tokens.writes] == [STORED["refresh"], STORED["access"]]


async def test_a_second_refresh_spends_the_refresh_token_the_first_one_obtained(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    standin.expire_access_token()
    await channel.send(NOTICE, FOLLOWER, settings, ctx)
    obtained = standin.refresh_token
    standin.expire_access_token()
    await channel.send(NOTICE, FOLLOWER, settings, ctx)

    assert [form["refresh_token"] for form in refreshes(standin)] == [
        settings.refresh_token,
        obtained,
    ]
    assert len(standin.received) == 2


async def test_stored_tokens_win_over_the_first_tokens_of_the_settings(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    standin.expire_access_token()
    await channel.send(NOTICE, FOLLOWER, settings, ctx)
    standin.calls.clear()
    await channel.send(NOTICE, FOLLOWER, settings, ctx)
    [call] = standin.calls
    assert call.headers["access_token"] == standin.access_token != settings.access_token


@pytest.mark.parametrize("code", [-124, -216, -220])
async def test_each_token_error_leads_to_one_refresh_and_one_retry(
    code: int,
    channel: ZaloChannel,
    settings: ZaloSettings,
    ctx: SendContext,
    standin: ZaloStandIn,
) -> None:
    standin.fail_next(code)
    await channel.send(NOTICE, FOLLOWER, settings, ctx)
    assert [(call.path, call.error) for call in standin.calls] == [
        ("/v3.0/oa/message/cs", code),
        ("/v4/oa/access_token", None),  # a token answer carries no `error`
        ("/v3.0/oa/message/cs", 0),
    ]
    assert len(standin.received) == 1


async def test_a_token_still_refused_after_the_refresh_is_a_configuration_failure(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    standin.fail_next(-216, times=2)
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(NOTICE, FOLLOWER, settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "-216")
    assert len(refreshes(standin)) == 1


async def test_a_refused_refresh_is_a_configuration_failure_and_stores_nothing(
    channel: ZaloChannel, standin: ZaloStandIn, ctx: SendContext, tokens: MemoryTokens
) -> None:
    settings = ZaloSettings(**standin.settings(refresh_token="spent-long-ago"))
    standin.expire_access_token()
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(NOTICE, FOLLOWER, settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "-14014")
    assert tokens.writes == []
    assert standin.received == []


async def test_a_wrong_app_secret_makes_the_refresh_a_configuration_failure(
    channel: ZaloChannel, standin: ZaloStandIn, ctx: SendContext
) -> None:
    settings = ZaloSettings(**standin.settings(app_secret="not-the-secret"))
    standin.expire_access_token()
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(NOTICE, FOLLOWER, settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "-14002")


async def test_tokens_an_operator_reissued_in_the_settings_replace_spent_stored_ones(
    channel: ZaloChannel,
    settings: ZaloSettings,
    ctx: SendContext,
    tokens: MemoryTokens,
    standin: ZaloStandIn,
) -> None:
    tokens.values = {STORED["access"]: "dead-access", STORED["refresh"]: "spent-refresh"}
    await channel.send(NOTICE, FOLLOWER, settings, ctx)

    assert [form["refresh_token"] for form in refreshes(standin)] == [
        "spent-refresh",
        settings.refresh_token,
    ]
    assert tokens.values[STORED["access"]] == standin.access_token
    assert len(standin.received) == 1


async def test_an_unreachable_oauth_server_is_a_temporary_failure(
    channel: ZaloChannel, standin: ZaloStandIn, ctx: SendContext
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        unreachable = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = ZaloSettings(**standin.settings(oauth_base=unreachable))
    standin.expire_access_token()
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(NOTICE, FOLLOWER, settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "network")


async def test_concurrent_sends_with_an_expired_token_refresh_it_once(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    standin.expire_access_token()
    sends = [channel.send(NOTICE, FOLLOWER, settings, ctx) for _ in range(5)]
    await asyncio.gather(*sends)
    assert len(refreshes(standin)) == 1
    assert len(standin.received) == 5


async def test_a_refresh_another_worker_made_first_is_picked_up_from_the_store(
    settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    first_worker = MemoryTokens()
    standin.expire_access_token()
    await ZaloChannel().send(
        NOTICE, FOLLOWER, settings, SendContext(ctx.http, "notice-a", first_worker)
    )
    second_worker = LaggingTokens(landing=first_worker.values)
    await ZaloChannel().send(
        NOTICE, FOLLOWER, settings, SendContext(ctx.http, "notice-b", second_worker)
    )

    assert [call.error for call in standin.calls if call.path == "/v4/oa/access_token"] == [
        None,
        -14014,
    ]
    assert standin.received[-1].access_token == standin.access_token
    assert second_worker.writes == []
