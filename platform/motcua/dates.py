"""Dates as Vietnamese readers expect them: dd/mm/yyyy, in the province's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def vn_date(moment: datetime | None, timezone: str = "Asia/Ho_Chi_Minh") -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y") if moment else ""


def vn_datetime(moment: datetime | None, timezone: str = "Asia/Ho_Chi_Minh") -> str:
    """'16 giờ 30, ngày 06/09/2026', as receipts write it."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%H} giờ {local:%M}, ngày {local:%d/%m/%Y}"
