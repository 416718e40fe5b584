"""Keeping a tenant's channel settings in step with its pack."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.notices.channel import discover, secret_fields
from motcua.notices.models import ChannelSetting

# Setting names that hold credentials; their values must be env:VAR references.
SECRET_NAME = re.compile(r"secret|password|token|api_key|private_key")
ENV_REFERENCE = re.compile(r"env:[A-Za-z_][A-Za-z0-9_]*")
IN_CLEAR = "is a secret: write it as env:VARIABLE, never in clear"


def secret_problems(settings: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    """(setting, message) for every secret written in clear, at any depth: by its name, and
    for installed plugins also by the fields their settings type marks as secret."""
    problems = _by_name(settings, prefix)
    if prefix == "channels":
        plugins = discover()
        for channel, table in settings.items():
            if channel in plugins and isinstance(table, dict):
                problems += [
                    (f"{prefix}.{channel}.{name}", IN_CLEAR)
                    for name in sorted(secret_fields(plugins[channel].settings_type))
                    if name in table
                    and not _is_reference(table[name])
                    and (f"{prefix}.{channel}.{name}", IN_CLEAR) not in problems
                ]
    return problems


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and ENV_REFERENCE.fullmatch(value) is not None


def _by_name(settings: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for name, value in settings.items():
        where = f"{prefix}.{name}"
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    problems += _by_name(item, f"{where}[{i}]")
        elif isinstance(value, dict):
            problems += _by_name(value, where)
        elif SECRET_NAME.search(name.lower()) and not _is_reference(value):
            problems.append((where, IN_CLEAR))
    return problems


def mask_secrets(settings: Any) -> Any:
    """Settings as they may be shown: secrets as their env:VAR reference, never a value."""
    if isinstance(settings, list):
        return [mask_secrets(item) for item in settings]
    if not isinstance(settings, dict):
        return settings
    return {
        name: "********"
        if SECRET_NAME.search(name.lower())
        and not (isinstance(value, str) and ENV_REFERENCE.fullmatch(value))
        else mask_secrets(value)
        for name, value in settings.items()
    }


class ChannelSettingsService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sync(
        self,
        channels: dict[str, dict[str, Any]],
        order: list[str],
        limits: dict[str, dict[str, Any]],
        quiet_hours: str,
    ) -> int:
        """Store the pack's channels, plan and limits; answer how many channels changed."""
        existing = {c.channel: c for c in await self.session.scalars(select(ChannelSetting))}
        changed = 0
        for name, settings in channels.items():
            wanted = {
                "position": order.index(name) if name in order else None,
                "settings": settings,
                "per_second": limits.get(name, {}).get("per_second"),
                "per_day": limits.get(name, {}).get("per_day"),
                "quiet_hours": quiet_hours,
            }
            row = existing.get(name)
            if row is None:
                self.session.add(ChannelSetting(channel=name, **wanted))
                changed += 1
            elif any(getattr(row, key) != value for key, value in wanted.items()):
                for key, value in wanted.items():
                    setattr(row, key, value)
                changed += 1
        gone = [name for name in existing if name not in channels]
        if gone:
            await self.session.execute(
                delete(ChannelSetting).where(ChannelSetting.channel.in_(gone))
            )
        await self.session.flush()
        return changed + len(gone)

    async def all(self) -> list[ChannelSetting]:
        query = select(ChannelSetting).order_by(ChannelSetting.position, ChannelSetting.channel)
        return list((await self.session.scalars(query)).all())
