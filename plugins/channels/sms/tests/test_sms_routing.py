"""Several gateways per tenant: traffic by weight, away from failing ones, back after a rest."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any, Protocol

import pytest

from motcua.notices.channel import Address, DeliveryFailure, FailureKind, Rendered, SendContext
from motcua_channel_sms import SmsChannel, SmsSettings
from motcua_channel_sms.settings import ProviderSettings
from motcua_channel_sms.standin import EsmsStandIn, SpeedSmsStandIn

Account = Callable[..., dict[str, Any]]
Settings = Callable[..., SmsSettings]
Context = Callable[..., SendContext]

CITIZEN = Address(phone="+84912345678")
COOLDOWN = 30.0  # the channel's default first rest


class FakeClock(Protocol):
    def __call__(self) -> float: ...

    def advance(self, seconds: float) -> None: ...


async def send_many(
    channel: SmsChannel, count: int, tenant: SmsSettings, context: Context, notice: Rendered
) -> list[str]:
    """The gateway that carried each of `count` notices."""
    return [(await channel.send(notice, CITIZEN, tenant, context())).provider for _ in range(count)]


async def test_traffic_splits_between_gateways_by_their_weights(
    channel: SmsChannel,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=70), speedsms_account(weight=30))
    carriers = await send_many(channel, 300, tenant, context, notice)
    assert 180 <= carriers.count("esms") <= 240
    assert (len(esms.received), len(speedsms.received)) == (
        carriers.count("esms"),
        carriers.count("speedsms"),
    )


async def test_a_standby_gateway_carries_nothing_until_the_weighted_one_fails(
    channel: SmsChannel,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=1), speedsms_account(weight=0))
    assert set(await send_many(channel, 10, tenant, context, notice)) == {"esms"}
    await esms.go_down()
    assert set(await send_many(channel, 3, tenant, context, notice)) == {"speedsms"}


async def test_when_a_gateway_is_down_the_same_send_goes_through_the_other(
    channel: SmsChannel,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=9), speedsms_account(weight=1))
    await esms.go_down()
    carriers = await send_many(channel, 10, tenant, context, notice)
    assert set(carriers) == {"speedsms"}  # no notice waited for a retry
    assert esms.calls == 1  # after its failure, eSMS rests: no more calls


async def test_a_gateway_comes_back_after_its_cool_down(
    channel: SmsChannel,
    clock: FakeClock,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=9), speedsms_account(weight=1))
    await esms.go_down(refuse=True)
    await send_many(channel, 5, tenant, context, notice)
    await esms.come_up()
    calls = esms.calls

    clock.advance(COOLDOWN - 1)
    assert set(await send_many(channel, 5, tenant, context, notice)) == {"speedsms"}
    assert esms.calls == calls

    clock.advance(2)
    carriers = await send_many(channel, 20, tenant, context, notice)
    assert carriers.count("esms") >= 10  # back to its share of the traffic


async def test_a_gateway_failing_its_trial_rests_twice_as_long(
    channel: SmsChannel,
    clock: FakeClock,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=1), speedsms_account(weight=0))
    await esms.go_down()
    await send_many(channel, 1, tenant, context, notice)
    clock.advance(COOLDOWN + 1)
    await send_many(channel, 3, tenant, context, notice)
    assert esms.calls == 2  # the first failure, then one trial

    clock.advance(2 * COOLDOWN - 2)
    await send_many(channel, 3, tenant, context, notice)
    assert esms.calls == 2
    clock.advance(2)
    await esms.come_up()
    assert await send_many(channel, 3, tenant, context, notice) == ["esms"] * 3


async def test_only_one_send_tries_a_gateway_coming_back(
    channel: SmsChannel,
    clock: FakeClock,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=1), speedsms_account(weight=0))
    esms.fail_next(1, "99")
    await send_many(channel, 1, tenant, context, notice)
    clock.advance(COOLDOWN + 1)
    esms.slow_down(0.2)  # the trial is still running while the others go

    sends = [channel.send(notice, CITIZEN, tenant, context()) for _ in range(5)]
    carriers = [sent.provider for sent in await asyncio.gather(*sends)]

    assert sorted(carriers) == ["esms"] + ["speedsms"] * 4
    assert esms.calls == 2


async def test_a_slow_gateway_still_delivers_but_gets_a_tenth_of_its_share(
    clock: FakeClock,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    channel = SmsChannel(clock=clock, slow_after=0.05, rng=random.Random(3))
    tenant = settings(esms_account(weight=1), speedsms_account(weight=1))
    esms.slow_down(0.15)
    first = await send_many(channel, 1, tenant, context, notice)
    if first == ["speedsms"]:  # the draw chose the quick one: make the slow one answer once
        tenant = settings(esms_account(weight=1), speedsms_account(weight=0))
        assert await send_many(channel, 1, tenant, context, notice) == ["esms"]
        tenant = settings(esms_account(weight=1), speedsms_account(weight=1))
    carriers = await send_many(channel, 40, tenant, context, notice)
    assert carriers.count("speedsms") >= 30  # about 10 to 1 while esms stays slow


async def test_a_lone_slow_gateway_keeps_carrying_every_notice(
    clock: FakeClock,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    channel = SmsChannel(clock=clock, slow_after=0.05)
    tenant = settings(esms_account(weight=1))
    esms.slow_down(0.1)
    assert await send_many(channel, 3, tenant, context, notice) == ["esms"] * 3


async def test_a_misconfigured_gateway_rests_long_while_the_next_carries_the_notices(
    channel: SmsChannel,
    clock: FakeClock,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=1), speedsms_account(weight=0))
    esms.fail_next(1, "103")  # no balance: a person has to top it up
    assert await send_many(channel, 1, tenant, context, notice) == ["speedsms"]

    clock.advance(301)  # longer than any temporary rest
    assert await send_many(channel, 1, tenant, context, notice) == ["speedsms"]
    clock.advance(900)
    assert await send_many(channel, 1, tenant, context, notice) == ["esms"]


async def test_an_invalid_number_is_not_offered_to_another_gateway(
    channel: SmsChannel,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(speedsms_account(weight=1), esms_account(weight=0))
    landline = Address(phone="+842963123456")
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, landline, tenant, context())
    assert failure.value.kind is FailureKind.PERMANENT
    assert esms.calls == 0
    # Refusing one number says nothing bad about the gateway.
    assert await send_many(channel, 1, tenant, context, notice) == ["speedsms"]


async def test_when_every_gateway_fails_the_notice_waits_for_a_retry_naming_each_failure(
    channel: SmsChannel,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=1), speedsms_account(weight=1))
    esms.fail_next(1, "99")
    speedsms.fail_next(1, "300")
    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, CITIZEN, tenant, context())
    assert (failure.value.kind, failure.value.code) == (FailureKind.TEMPORARY, "99")
    assert "esms: 99" in failure.value.detail
    assert "speedsms: 300" in failure.value.detail

    with pytest.raises(DeliveryFailure) as resting:
        await channel.send(notice, CITIZEN, tenant, context())
    assert (resting.value.kind, resting.value.code) == (
        FailureKind.TEMPORARY,
        "no-gateway-available",
    )
    assert (esms.calls, speedsms.calls) == (1, 1)


async def test_when_every_gateway_is_misconfigured_the_failure_says_configuration(
    channel: SmsChannel,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=1), speedsms_account(weight=1))
    esms.fail_next(1, "104")
    speedsms.fail_next(1, "008")
    for _ in range(2):  # tried, then resting
        with pytest.raises(DeliveryFailure) as failure:
            await channel.send(notice, CITIZEN, tenant, context())
        assert failure.value.kind is FailureKind.CONFIGURATION


async def test_tenants_sharing_a_gateway_account_share_what_is_known_of_its_health(
    channel: SmsChannel,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    an_giang = settings(esms_account(weight=1), speedsms_account(weight=0))
    dong_thap = settings(esms_account(weight=1, name="esms-dt"), speedsms_account(weight=0))
    await esms.go_down()
    await send_many(channel, 1, an_giang, context, notice)
    assert await send_many(channel, 1, dong_thap, context, notice) == ["speedsms"]
    assert esms.calls == 1


async def test_random_gateway_failures_reach_no_citizen_late(
    channel: SmsChannel,
    clock: FakeClock,
    esms: EsmsStandIn,
    speedsms: SpeedSmsStandIn,
    esms_account: Account,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
    notice: Rendered,
) -> None:
    tenant = settings(esms_account(weight=1), speedsms_account(weight=1))
    esms.fail_randomly(0.3, seed=11)
    speedsms.fail_randomly(0.3, seed=12)
    delivered = 0
    for _ in range(40):
        clock.advance(10 * COOLDOWN)  # every rest over: each send may meet a failure afresh
        try:
            await channel.send(notice, CITIZEN, tenant, context())
            delivered += 1
        except DeliveryFailure as failure:
            assert failure.kind is FailureKind.TEMPORARY
    assert delivered == len(esms.received) + len(speedsms.received)
    assert delivered >= 40 - 8  # only when both fail at once (about 9 %) does a notice wait


def test_the_weighted_draw_is_reproducible_with_a_seed() -> None:
    providers = [
        ProviderSettings(kind="esms", api_key="esms-key", brandname="UBND AG", weight=70),
        ProviderSettings(kind="speedsms", api_key="speedsms-key", brandname="UBND AG", weight=30),
    ]

    def first_choices(seed: int) -> list[str]:
        channel = SmsChannel(rng=random.Random(seed))
        return [channel.router.order(providers)[0].kind for _ in range(50)]

    assert first_choices(3) == first_choices(3)
    assert set(first_choices(3)) == {"esms", "speedsms"}
