"""Each error Zalo documents leads to the failure kind PROVIDERS.md gives it."""

from __future__ import annotations

import pytest

from motcua.notices.channel import Address, DeliveryFailure, FailureKind, Rendered, SendContext
from motcua_channel_zalo import ZaloChannel, ZaloSettings
from motcua_channel_zalo.standin import ZaloStandIn

NOTICE = Rendered(kind="received", text="Hồ sơ đã được tiếp nhận.", template_data={"code": "X"})
ADDRESSES = {
    "oa": Address(zalo_user_id="2468013579"),
    "zns": Address(phone="+84912345678"),
}
DOCUMENTED = [
    (-32, FailureKind.TEMPORARY),  # rate limited
    (-108, FailureKind.PERMANENT),  # phone invalid
    (-114, FailureKind.PERMANENT),  # the user cannot or will not receive
    (-118, FailureKind.PERMANENT),  # no Zalo account
    (-213, FailureKind.PERMANENT),  # not a follower
    (-227, FailureKind.PERMANENT),  # outside the interaction window
    (-230, FailureKind.PERMANENT),
    (-232, FailureKind.PERMANENT),
    (-101, FailureKind.CONFIGURATION),  # app or OA misconfigured
    (-102, FailureKind.CONFIGURATION),
    (-103, FailureKind.CONFIGURATION),
    (-104, FailureKind.CONFIGURATION),
    (-105, FailureKind.CONFIGURATION),
    (-1, FailureKind.TEMPORARY),  # any other negative value
    (-201, FailureKind.TEMPORARY),
    (-1000, FailureKind.TEMPORARY),
]


@pytest.mark.parametrize("route", ADDRESSES)
@pytest.mark.parametrize(("code", "kind"), DOCUMENTED)
async def test_a_zalo_error_becomes_its_documented_failure_kind_keeping_the_code(
    code: int,
    kind: FailureKind,
    route: str,
    channel: ZaloChannel,
    settings: ZaloSettings,
    ctx: SendContext,
    standin: ZaloStandIn,
) -> None:
    standin.fail_next(code, message="từ chối")
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(NOTICE, ADDRESSES[route], settings, ctx)
    assert (failure.value.kind, failure.value.code) == (kind, str(code))
    assert failure.value.detail == "từ chối"
    assert len(standin.calls) == 1  # only token errors are retried


async def test_a_phone_zns_cannot_read_fails_permanently(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(NOTICE, Address(phone="+8412"), settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.PERMANENT, "-108")


async def test_working_settings_pass_the_check(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    await channel.check_settings(settings, ctx)
    [call] = standin.calls
    assert (call.method, call.path, call.error) == ("GET", "/v2.0/oa/getoa", 0)
    assert call.headers["access_token"] == settings.access_token
    assert standin.received == []


async def test_the_check_refreshes_an_expired_token_and_stores_the_new_pair(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    standin.expire_access_token()
    await channel.check_settings(settings, ctx)
    assert await ctx.tokens.get("zalo.access_token") == standin.access_token
    assert await ctx.tokens.get("zalo.refresh_token") == standin.refresh_token


@pytest.mark.parametrize(
    ("code", "kind"),
    [(-103, FailureKind.CONFIGURATION), (-32, FailureKind.TEMPORARY)],
)
async def test_the_check_maps_errors_like_a_send(
    code: int,
    kind: FailureKind,
    channel: ZaloChannel,
    settings: ZaloSettings,
    ctx: SendContext,
    standin: ZaloStandIn,
) -> None:
    standin.fail_next(code)
    with pytest.raises(DeliveryFailure) as failure:
        await channel.check_settings(settings, ctx)
    assert (failure.value.kind, failure.value.code) == (kind, str(code))


async def test_a_token_of_another_oa_fails_the_check(
    channel: ZaloChannel, standin: ZaloStandIn, ctx: SendContext
) -> None:
    settings = ZaloSettings(**standin.settings(oa_id="another-oa"))
    with pytest.raises(DeliveryFailure) as failure:
        await channel.check_settings(settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.CONFIGURATION, "oa-mismatch")


async def test_the_check_of_a_provider_that_is_down_is_a_temporary_failure(
    channel: ZaloChannel, settings: ZaloSettings, ctx: SendContext, standin: ZaloStandIn
) -> None:
    standin.set_down()
    with pytest.raises(DeliveryFailure) as failure:
        await channel.check_settings(settings, ctx)
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "http-503")
