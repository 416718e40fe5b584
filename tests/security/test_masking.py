"""Personal data is masked in logs; secrets are never returned."""

import json
import logging

from motcua.logs import JsonFormatter
from motcua.security.masking import mask


def test_phones_emails_and_id_numbers_are_masked():
    text = mask("gửi 0912345678 và +84987654321, hoa.nguyen@example.vn, CCCD 001099012345")
    assert "0912345678" not in text and "987654321" not in text
    assert "hoa.nguyen@" not in text and "001099012345" not in text
    assert "example.vn" in text and "+8491*****678" in text


def test_a_log_line_and_its_error_carry_no_personal_data():
    try:
        raise ValueError("duplicate applicant 0912345678 hoa@example.vn")
    except ValueError:
        record = logging.makeLogRecord(
            {"msg": "intake failed for %s", "args": ("0912345678",), "levelname": "ERROR"}
        )
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert "0912345678" not in line["message"] and "0912345678" not in line["error"]
    assert "hoa@example.vn" not in line["error"]


async def test_a_key_list_never_shows_a_secret(client, onboard, make_key):
    from motcua.auth.models import Role

    province = await onboard()
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, province)}"}
    created = await client.post(
        f"/t/{province.slug}/api/v1/keys", json={"role": "integration"}, headers=admin
    )
    secret = created.json()["key"]
    listed = await client.get(f"/t/{province.slug}/api/v1/keys", headers=admin)
    assert secret.split("_", 2)[2] not in listed.text and "secret" not in listed.text
    log = await client.get(f"/t/{province.slug}/api/v1/audit", headers=admin)
    assert secret.split("_", 2)[2] not in log.text
