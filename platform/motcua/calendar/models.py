"""Calendar days that differ from the ordinary week, per tenant."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import TenantOwned


class CalendarDay(TenantOwned):
    """A day off on a weekday (``holiday``) or a Saturday worked (``working_day``)."""

    __tablename__ = "calendar_days"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
