"""Dossier codes and tracking keys.

A code is what provinces print: the receiving unit, the day, the unit's sequence of the
day — ``{unit}-{yyMMdd}-{NNNN}``, e.g. ``H01.23-240904-0007``. The sequence comes from one
row per unit and day, incremented in the intake's own transaction: concurrent intakes wait
for each other on that row, so codes neither collide nor skip (a failed intake rolls its
number back with it).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from motcua.db import current_tenant
from motcua.db.rows import driver

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TRACKING_KEY_BYTES = 16  # 128 bits: not guessable, short enough for a QR code

_NEXT = (
    "INSERT INTO dossier_counters (tenant_id, unit_code, day, last) VALUES ($1, $2, $3, 1) "
    "ON CONFLICT (tenant_id, unit_code, day) DO UPDATE SET last = dossier_counters.last + 1 "
    "RETURNING last"
)


async def next_code(session: AsyncSession, unit: str, day: dt.date) -> str:
    connection = await driver(session)  # on every intake: the lighter path (db/rows.py)
    number = await connection.fetchval(_NEXT, current_tenant(session), unit, day)
    return f"{unit}-{day:%y%m%d}-{number:04d}"


def new_tracking_key() -> str:
    return secrets.token_urlsafe(TRACKING_KEY_BYTES)
