"""Vietnamese text: sent whole in UCS-2, or folded into the cheaper GSM alphabet on request."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from motcua.notices.channel import Address, Rendered, SendContext
from motcua_channel_sms import SmsChannel, SmsSettings
from motcua_channel_sms.gsm import fold_diacritics, is_gsm
from motcua_channel_sms.standin import EsmsStandIn, SpeedSmsStandIn

Account = Callable[..., dict[str, Any]]
Settings = Callable[..., SmsSettings]
Context = Callable[..., SendContext]

CITIZEN = Address(phone="+84912345678")
RESULT_READY = (
    "Hồ sơ 000.00.01.H01-250904-0001 đã có kết quả. Mời ông/bà đến nhận tại Bộ phận Một cửa."
)


@pytest.mark.parametrize(
    ("vietnamese", "folded"),
    [
        ("Hồ sơ đã có kết quả", "Ho so da co ket qua"),
        ("ĐĂNG KÝ KHAI SINH", "DANG KY KHAI SINH"),
        ("Ủy ban nhân dân tỉnh An Giang", "Uy ban nhan dan tinh An Giang"),
        ("ư ơ ă â ê ô ỳ ỵ ỹ ữ ợ", "u o a a e o y y y u o"),
    ],
)
def test_folding_keeps_every_letter_and_drops_only_the_marks(vietnamese: str, folded: str) -> None:
    assert fold_diacritics(vietnamese) == folded
    assert fold_diacritics(unicodedata.normalize("NFD", vietnamese)) == folded
    assert is_gsm(folded)


def test_folding_leaves_characters_that_are_not_marked_letters_alone() -> None:
    assert fold_diacritics("Hạn: 05/09 → nhận “kết quả” 😊") == "Han: 05/09 → nhan “ket qua” 😊"


async def test_vietnamese_goes_to_esms_whole_as_unicode_by_default(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
) -> None:
    message = Rendered(kind="result_ready", text=RESULT_READY)
    await channel.send(message, CITIZEN, settings(esms_account()), context())
    [sms] = esms.received
    assert (sms.text, sms.is_unicode) == (RESULT_READY, True)


async def test_decomposed_vietnamese_is_sent_composed_so_each_letter_counts_once(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
) -> None:
    message = Rendered(kind="result_ready", text=unicodedata.normalize("NFD", RESULT_READY))
    await channel.send(message, CITIZEN, settings(esms_account()), context())
    assert esms.received[0].text == RESULT_READY


async def test_plain_text_goes_to_esms_as_gsm(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
) -> None:
    message = Rendered(kind="received", text="Ma ho so: 000.00.01.H01-250904-0001 [nhan 05/09]")
    await channel.send(message, CITIZEN, settings(esms_account()), context())
    assert esms.received[0].is_unicode is False


async def test_strip_diacritics_sends_folded_text_as_gsm(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
) -> None:
    message = Rendered(kind="result_ready", text=RESULT_READY)
    tenant = settings(esms_account(), strip_diacritics=True)
    await channel.send(message, CITIZEN, tenant, context())
    [sms] = esms.received
    assert sms.text == (
        "Ho so 000.00.01.H01-250904-0001 da co ket qua. Moi ong/ba den nhan tai Bo phan Mot cua."
    )
    assert sms.is_unicode is False


async def test_strip_diacritics_keeps_other_characters_and_then_sends_unicode(
    channel: SmsChannel,
    esms: EsmsStandIn,
    esms_account: Account,
    settings: Settings,
    context: Context,
) -> None:
    message = Rendered(kind="result_ready", text="Hồ sơ → đã có kết quả")
    tenant = settings(esms_account(), strip_diacritics=True)
    await channel.send(message, CITIZEN, tenant, context())
    [sms] = esms.received
    assert (sms.text, sms.is_unicode) == ("Ho so → da co ket qua", True)


async def test_strip_diacritics_applies_to_speedsms_too(
    channel: SmsChannel,
    speedsms: SpeedSmsStandIn,
    speedsms_account: Account,
    settings: Settings,
    context: Context,
) -> None:
    message = Rendered(kind="result_ready", text="Hồ sơ đã có kết quả")
    tenant = settings(speedsms_account(), strip_diacritics=True)
    await channel.send(message, CITIZEN, tenant, context())
    assert speedsms.received[0].text == "Ho so da co ket qua"


def test_the_channel_announces_four_gsm_parts_and_delivery_receipts() -> None:
    assert SmsChannel.capabilities.max_chars == 4 * 153
    assert SmsChannel.capabilities.delivery_receipts
