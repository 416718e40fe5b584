"""The `[channels.email]` table of a tenant.toml."""

from __future__ import annotations

from typing import Literal

import msgspec

from motcua.notices.channel import Secret


class EmailSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    host: str
    port: int = 587
    # "tls": TLS from the first byte (usually port 465); "starttls": upgrade a plain
    # connection and refuse to go on without it; "none": plain text, for a relay on loopback.
    security: Literal["tls", "starttls", "none"] = "starttls"
    username: str = ""  # empty: the server takes mail without AUTH
    password: Secret = ""
    from_address: str
    from_name: str = ""
    timeout: float = 10.0  # seconds for each step of the SMTP conversation
