"""A tenant's channel settings, as its pack (or admin) gives them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import TenantOwned


class ChannelSetting(TenantOwned):
    """An enabled channel plugin. Secrets are kept as ``env:VAR`` references, never values."""

    __tablename__ = "channel_settings"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int | None]  # place in the citizen's channel plan; None: not in the plan
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
