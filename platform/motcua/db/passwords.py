"""A login's password as PostgreSQL stores it (a SCRAM-SHA-256 verifier), made here.

`ALTER ROLE … PASSWORD` with the password itself would put it in the server's log
wherever statements are logged (`log_statement = ddl`); a verifier gives the server what it
keeps and nothing that signs in. The steps are PostgreSQL's (RFC 5802 and 7677), with its
SASLprep: a password SASLprep refuses is used as its bytes, as the server does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import stringprep
import unicodedata

ITERATIONS = 4096  # PostgreSQL's scram_iterations default
_PROHIBITED = (
    stringprep.in_table_c12,
    stringprep.in_table_c21_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
    stringprep.in_table_a1,  # unassigned code points: stored queries refuse them
)


def saslprep(password: str) -> bytes:
    """The bytes PostgreSQL hashes for this password."""
    mapped = "".join(
        " " if _space(c) else c for c in password if _space(c) or not stringprep.in_table_b1(c)
    )
    text = unicodedata.normalize("NFKC", mapped)
    if any(check(c) for c in text for check in _PROHIBITED) or not _bidi_ok(text):
        return password.encode()
    return text.encode()


def _space(c: str) -> bool:
    """RFC 3454's table C.1.2, which lists U+200B; Python's (the Zs category) does not."""
    return c == "\u200b" or stringprep.in_table_c12(c)


def _bidi_ok(text: str) -> bool:
    right_to_left = [stringprep.in_table_d1(c) for c in text]
    if not any(right_to_left):
        return True
    return right_to_left[0] and right_to_left[-1] and not any(map(stringprep.in_table_d2, text))


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", saslprep(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
