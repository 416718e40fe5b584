"""The `[channels.sms]` table as a province writes it in tenant.toml."""

from __future__ import annotations

import pytest

from motcua.notices.channel import (
    DeliveryFailure,
    FailureKind,
    discover,
    resolve_settings,
    secret_fields,
)
from motcua_channel_sms import SmsChannel, SmsSettings
from motcua_channel_sms.settings import ProviderSettings

TABLE = {
    "strip_diacritics": True,
    "callback_token": "env:AG_SMS_CALLBACK_TOKEN",
    "providers": [
        {
            "kind": "esms",
            "api_key": "env:AG_ESMS_KEY",
            "secret_key": "env:AG_ESMS_SECRET",
            "brandname": "UBND AG",
            "weight": 70,
        },
        {
            "kind": "speedsms",
            "api_key": "env:AG_SPEEDSMS_TOKEN",
            "brandname": "UBND AG",
            "weight": 30,
        },
    ],
}
ENVIRON = {
    "AG_SMS_CALLBACK_TOKEN": "token",
    "AG_ESMS_KEY": "esms-key",
    "AG_ESMS_SECRET": "esms-secret",
    "AG_SPEEDSMS_TOKEN": "speedsms-token",
}


def test_the_plugin_is_found_through_its_entry_point() -> None:
    assert discover()["sms"] is SmsChannel


def test_the_documented_table_reads_with_secrets_and_the_public_addresses() -> None:
    settings: SmsSettings = resolve_settings(SmsChannel, TABLE, ENVIRON)
    esms, speedsms = settings.providers
    assert (esms.api_base, esms.api_key, esms.secret_key) == (
        "https://rest.esms.vn",
        "esms-key",
        "esms-secret",
    )
    assert (speedsms.api_base, speedsms.api_key) == ("https://api.speedsms.vn", "speedsms-token")
    assert [(p.name, p.weight) for p in settings.providers] == [("esms", 70), ("speedsms", 30)]
    assert settings.strip_diacritics
    assert settings.callback_token == "token"


def test_credentials_are_marked_secret() -> None:
    assert secret_fields(SmsSettings) == {"callback_token"}
    assert secret_fields(ProviderSettings) == {"api_key", "secret_key"}


@pytest.mark.parametrize(
    "table",
    [
        {"providers": []},
        {"providers": [{"kind": "vietguys", "api_key": "k", "brandname": "B"}]},
        {"providers": [{"kind": "esms", "api_key": "k", "brandname": "B", "weight": -1}]},
        {"providers": [{"kind": "esms", "api_key": "k", "brandname": "B", "sender": "B"}]},
    ],
)
def test_a_wrong_table_is_a_configuration_failure(table: dict[str, object]) -> None:
    with pytest.raises(DeliveryFailure) as failure:
        resolve_settings(SmsChannel, table, {})
    assert failure.value.kind is FailureKind.CONFIGURATION
