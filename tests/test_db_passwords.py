"""A login's password verifier made here is the one PostgreSQL makes from the password."""

import base64
import secrets
import unicodedata

import asyncpg
import pytest

from motcua.db.passwords import scram_verifier

VIETNAMESE = "mật khẩu dịch vụ"


@pytest.mark.parametrize(
    "password",
    [
        "s3cret-of-the-service",
        VIETNAMESE,
        unicodedata.normalize("NFD", VIETNAMESE),  # decomposed: SASLprep composes it
        "\ufb01le\u00a0key\u200b",  # a ligature, a no-break space, a zero-width space
        "\u0627\u0644\u0633\u0631a",  # right-to-left then left-to-right: SASLprep refuses
    ],
)
async def test_the_verifier_is_the_one_postgresql_makes(database_url, password):
    connection = await asyncpg.connect(database_url)
    creating = connection.transaction()
    await creating.start()
    try:
        await connection.execute("SET LOCAL password_encryption = 'scram-sha-256'")
        role = f"motcua_pw_{secrets.token_hex(4)}"
        statement = await connection.fetchval(
            "SELECT format('CREATE ROLE %I PASSWORD %L', $1::text, $2::text)", role, password
        )
        await connection.execute(statement)
        stored = await connection.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role
        )
    finally:
        await creating.rollback()  # the role was only to see what the server stores
        await connection.close()
    method, parameters, _ = stored.split("$")
    iterations, salt = parameters.split(":")
    assert method == "SCRAM-SHA-256"
    assert scram_verifier(password, base64.b64decode(salt), int(iterations)) == stored
