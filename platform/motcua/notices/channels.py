"""A tenant's channel settings: kept in step with its pack, or set by its admin.

A pack writes every secret as an env:VAR reference. An admin may give a secret's value
instead: it is stored encrypted by the vault ("vault:<token>"), decrypted only when a
plugin needs it, and never answered back (shown as "********").
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import types
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Final, Union, get_args, get_origin, get_type_hints

import httpx
import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.db import current_tenant
from motcua.errors import Invalid, NotFound
from motcua.notices.channel import (
    VAULT_PREFIX,
    Channel,
    DeliveryFailure,
    FailureKind,
    SecretMarker,
    SendContext,
    TokenStore,
    discover,
    resolve_settings,
    secret_fields,
)
from motcua.notices.models import ChannelSetting
from motcua.notices.schemas import ChannelCheck, ChannelIn, ChannelOut
from motcua.notices.vault import Vault

log = logging.getLogger(__name__)

# Setting names that hold credentials; their values must be env:VAR references.
SECRET_NAME = re.compile(r"secret|password|token|api_key|private_key")
ENV_REFERENCE = re.compile(r"env:[A-Za-z_][A-Za-z0-9_]*")
IN_CLEAR = "is a secret: write it as env:VARIABLE, never in clear"
MASK: Final = "********"
QUIET_HOURS = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d-(?:[01]\d|2[0-3]):[0-5]\d|")
CHECK_TIMEOUT: Final = 15.0  # seconds a provider gets to answer a check


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
    """Settings as they may be shown: secrets as their env:VAR reference, never a value, and
    never what the vault keeps, whatever the field's name."""
    if isinstance(settings, list):
        return [mask_secrets(item) for item in settings]
    if isinstance(settings, str) and settings.startswith(VAULT_PREFIX):
        return MASK
    if not isinstance(settings, dict):
        return settings
    return {
        name: MASK
        if SECRET_NAME.search(name.lower()) and not _is_reference(value)
        else mask_secrets(value)
        for name, value in settings.items()
    }


def channel_out(row: ChannelSetting) -> ChannelOut:
    return ChannelOut(
        channel=row.channel,
        position=row.position,
        settings=mask_secrets(row.settings),
        per_second=row.per_second,
        per_day=row.per_day,
        quiet_hours=row.quiet_hours,
        managed_by=row.managed_by,
    )


# -- the plugin's settings type, walked along the raw settings ----------------------------


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """The type under Annotated and Optional, and whether it is marked secret."""
    secret = False
    while True:
        origin = get_origin(hint)
        if origin is Annotated:
            hint, *extras = get_args(hint)
            secret = secret or any(isinstance(extra, SecretMarker) for extra in extras)
        elif origin in (Union, types.UnionType):
            rest = [arg for arg in get_args(hint) if arg is not type(None)]
            if len(rest) != 1:
                return hint, secret
            hint = rest[0]
        else:
            return hint, secret


def _fields(hint: Any) -> dict[str, tuple[Any, bool]] | None:
    """A Struct's fields: (type, secret) by name; None for anything else."""
    if not (isinstance(hint, type) and issubclass(hint, msgspec.Struct)):
        return None
    fields = {}
    for name, field_hint in get_type_hints(hint, include_extras=True).items():
        inner, marked = _unwrap(field_hint)
        # As for packs: a credential's name makes it a secret even if the plugin forgot to.
        fields[name] = (inner, marked or SECRET_NAME.search(name.lower()) is not None)
    return fields


def _merge(
    given: Any, stored: Any, hint: Any, seal: Callable[[str], str], keep: Callable[[str], str]
) -> Any:
    """The settings to store: as given, with every secret sealed in the vault (or kept as an
    env:VAR reference), and a secret left out (or given as the mask) kept from what was
    stored at the same place. Items of a list match the stored ones by position."""
    hint, _ = _unwrap(hint)
    fields = _fields(hint)
    if fields is not None and isinstance(given, dict):
        before = stored if isinstance(stored, dict) else {}
        merged: dict[str, Any] = {}
        for name, value in given.items():
            field_hint, secret = fields.get(name, (Any, False))
            if not secret:
                merged[name] = _merge(value, before.get(name), field_hint, seal, keep)
            elif value == MASK:
                if name in before:
                    merged[name] = keep(before[name])
            elif isinstance(value, str) and value and not _is_reference(value):
                merged[name] = seal(value)
            else:
                merged[name] = value  # a reference, empty, or not a string (refused below)
        for name, (_, secret) in fields.items():
            if secret and name not in given and name in before:
                merged[name] = keep(before[name])
        return merged
    if get_origin(hint) is list and isinstance(given, list):
        (item_hint,) = get_args(hint) or (Any,)
        before_items = stored if isinstance(stored, list) else []
        return [
            _merge(item, before_items[i] if i < len(before_items) else None, item_hint, seal, keep)
            for i, item in enumerate(given)
        ]
    if get_origin(hint) is dict and isinstance(given, dict):
        _, value_hint = get_args(hint) or (str, Any)
        before = stored if isinstance(stored, dict) else {}
        return {k: _merge(v, before.get(k), value_hint, seal, keep) for k, v in given.items()}
    return given


def _secrets(raw: Any, hint: Any) -> Iterator[str]:
    """The secret values of stored settings, as stored (references or vault tokens)."""
    hint, _ = _unwrap(hint)
    fields = _fields(hint)
    if fields is not None and isinstance(raw, dict):
        for name, value in raw.items():
            field_hint, secret = fields.get(name, (Any, False))
            if secret and isinstance(value, str) and value:
                yield value
            elif not secret:
                yield from _secrets(value, field_hint)
    elif isinstance(raw, list):
        (item_hint,) = get_args(hint) or (Any,)
        for item in raw:
            yield from _secrets(item, item_hint)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"(?:missing required|contains unknown) field `(?P<name>[^`]+)`")


def _problem(error: msgspec.ValidationError) -> dict[str, str]:
    """msgspec's message as {field, message}, the field named as the client wrote it."""
    match = _AT.match(str(error))
    assert match is not None  # the pattern matches any text
    path = match.group("path") or ""
    if named := _NAMED.search(match.group("message")):
        path += f".{named.group('name')}"
    return {"field": f"settings{path}", "message": match.group("message")}


class ChannelSettingsService:
    def __init__(
        self, session: AsyncSession, vault: Vault | None = None, tokens: TokenStore | None = None
    ) -> None:
        self.session = session
        self.vault = vault
        self.tokens = tokens

    async def sync(
        self,
        channels: dict[str, dict[str, Any]],
        order: list[str],
        limits: dict[str, dict[str, Any]],
        quiet_hours: str,
    ) -> int:
        """Store the pack's channels, plan and limits; answer how many channels changed.

        The pack decides for the channels it names (an admin's change to one of them is
        rewritten); a channel an admin enabled and the pack does not name is left alone."""
        existing = {c.channel: c for c in await self.session.scalars(select(ChannelSetting))}
        changed = 0
        for name, settings in channels.items():
            wanted = {
                "position": order.index(name) if name in order else None,
                "settings": settings,
                "per_second": limits.get(name, {}).get("per_second"),
                "per_day": limits.get(name, {}).get("per_day"),
                "quiet_hours": quiet_hours,
                "managed_by": "pack",
            }
            row = existing.get(name)
            if row is None:
                self.session.add(ChannelSetting(channel=name, **wanted))
                changed += 1
            elif any(getattr(row, key) != value for key, value in wanted.items()):
                for key, value in wanted.items():
                    setattr(row, key, value)
                changed += 1
        gone = [
            name
            for name, row in existing.items()
            if name not in channels and row.managed_by == "pack"
        ]
        if gone:
            await self.session.execute(
                delete(ChannelSetting).where(ChannelSetting.channel.in_(gone))
            )
        await self.session.flush()
        return changed + len(gone)

    async def all(self) -> list[ChannelSetting]:
        query = select(ChannelSetting).order_by(ChannelSetting.position, ChannelSetting.channel)
        return list((await self.session.scalars(query)).all())

    # -- the admin's routes ----------------------------------------------------------------

    async def put(self, channel: str, data: ChannelIn) -> ChannelOut:
        """Enable a channel or change it; invalid settings write nothing."""
        plugin = self._plugin(channel)
        row = await self.session.get(
            ChannelSetting, (current_tenant(self.session), channel), with_for_update=True
        )
        settings = _merge(
            data.settings, row.settings if row else {}, plugin.settings_type, self._seal, self._keep
        )
        problems = _policy_problems(data)
        try:
            msgspec.convert(settings, plugin.settings_type, strict=False)
        except msgspec.ValidationError as exc:
            problems.append(_problem(exc))
        if problems:
            raise Invalid(f"The settings of channel '{channel}' are not valid.", errors=problems)
        wanted = {
            "position": data.position,
            "settings": settings,
            "per_second": data.per_second,
            "per_day": data.per_day,
            "quiet_hours": data.quiet_hours,
            "managed_by": "admin",
        }
        if row is None:
            row = ChannelSetting(channel=channel, **wanted)
            self.session.add(row)
        else:
            for key, value in wanted.items():
                setattr(row, key, value)
        await self.session.flush()
        return channel_out(row)

    async def remove(self, channel: str) -> None:
        """Disable a channel: notices planned on it fail over to the next one."""
        row = await self.session.get(ChannelSetting, (current_tenant(self.session), channel))
        if row is None:
            raise NotFound(f"The channel '{channel}' is not enabled here.")
        await self.session.delete(row)
        await self.session.flush()

    async def check(self, channel: str) -> ChannelCheck:
        """Ask the provider whether it accepts the stored settings; sends nobody anything."""
        row = await self.session.get(ChannelSetting, (current_tenant(self.session), channel))
        plugin = discover().get(channel)
        if row is None or plugin is None:
            raise NotFound(f"The channel '{channel}' is not enabled here.")
        try:
            settings = resolve_settings(plugin, row.settings, vault=self.vault)
            async with httpx.AsyncClient() as http:
                ctx = SendContext(
                    http=http, idempotency_key=f"check-{channel}", tokens=self._token_store()
                )
                await asyncio.wait_for(plugin().check_settings(settings, ctx), CHECK_TIMEOUT)
        except DeliveryFailure as failure:
            return ChannelCheck(
                channel=channel,
                ok=False,
                failure=str(failure.kind),
                code=failure.code,
                detail=self._scrub(failure.detail, row.settings, plugin),
            )
        except Exception as exc:  # a plugin's bug: say so rather than answer 500
            if not isinstance(exc, TimeoutError):
                log.exception("channel %s check failed unexpectedly", channel)
                return ChannelCheck(
                    channel=channel,
                    ok=False,
                    failure=str(FailureKind.TEMPORARY),
                    code="plugin-error",
                    detail=type(exc).__name__,
                )
            return ChannelCheck(
                channel=channel,
                ok=False,
                failure=str(FailureKind.TEMPORARY),
                code="timeout",
                detail=f"no answer in {CHECK_TIMEOUT:.0f} s",
            )
        return ChannelCheck(channel=channel, ok=True)

    def _plugin(self, channel: str) -> type[Channel]:
        plugin = discover().get(channel)
        if plugin is None:
            raise NotFound(f"No channel '{channel}' is installed.")
        return plugin

    def _seal(self, value: str) -> str:
        if self.vault is None:
            raise RuntimeError("a secret given in clear needs the vault")
        return VAULT_PREFIX + self.vault.encrypt(value).decode()

    def _keep(self, stored: Any) -> Any:
        """A stored secret kept, re-encrypted with the newest key (how rotation reaches it)."""
        if isinstance(stored, str) and stored.startswith(VAULT_PREFIX) and self.vault:
            rotated = self.vault.rotate(stored[len(VAULT_PREFIX) :].encode())
            if rotated is not None:
                return VAULT_PREFIX + rotated.decode()
        return stored

    def _token_store(self) -> TokenStore:
        if self.tokens is None:
            raise RuntimeError("checking a channel needs its token store")
        return self.tokens

    def _scrub(self, detail: str, raw: dict[str, Any], plugin: type[Channel]) -> str:
        """A provider's message with any secret it echoed masked."""
        for stored in _secrets(raw, plugin.settings_type):
            if stored.startswith(VAULT_PREFIX) and self.vault is not None:
                value = self.vault.decrypt(stored[len(VAULT_PREFIX) :].encode())
            elif match := ENV_REFERENCE.fullmatch(stored):
                value = os.environ.get(match.group(0)[4:])
            else:
                value = stored
            if value and len(value) >= 4:
                detail = detail.replace(value, MASK)
        return detail


def _policy_problems(data: ChannelIn) -> list[dict[str, str]]:
    problems = []
    if data.position is not None and data.position < 0:
        problems.append({"field": "position", "message": "must be 0 or more, or null"})
    if data.per_second is not None and not data.per_second > 0:
        problems.append({"field": "per_second", "message": "must be more than 0, or null"})
    if data.per_day is not None and data.per_day < 1:
        problems.append({"field": "per_day", "message": "must be at least 1, or null"})
    if not QUIET_HOURS.fullmatch(data.quiet_hours):
        problems.append(
            {"field": "quiet_hours", "message": "must be HH:MM-HH:MM (local time), or empty"}
        )
    return problems
