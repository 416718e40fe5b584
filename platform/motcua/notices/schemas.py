"""Wire types of notices, templates and channels."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec


class AttemptOut(msgspec.Struct, kw_only=True):
    number: int
    channel: str
    at: datetime
    outcome: str
    provider: str
    provider_id: str | None
    provider_code: str
    detail: str
    milliseconds: int


class NoticeOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    status: str
    channel: str | None
    plan: list[str]
    test: bool
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    template_version: int | None
    last_error: str
    attempts: list[AttemptOut]


class NoticeList(msgspec.Struct, kw_only=True):
    items: list[NoticeOut]


class ChannelFigures(msgspec.Struct, kw_only=True):
    channel: str
    sent: int
    delivered: int
    failed: int
    sent_within_10s: float  # share of sent notices handed to the provider within 10 s


class Figures(msgspec.Struct, kw_only=True):
    since: datetime
    channels: list[ChannelFigures]


class TemplateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    subject: Annotated[str, msgspec.Meta(max_length=300)] = ""


class SmsPreview(msgspec.Struct, kw_only=True):
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int
    segments: int


class TemplateOut(msgspec.Struct, kw_only=True):
    kind: str
    channel: str
    locale: str
    version: int  # 0: the platform's default
    subject: str
    body: str
    sms: SmsPreview | None = None


class TemplateList(msgspec.Struct, kw_only=True):
    items: list[TemplateOut]
    placeholders: list[str]


class ChannelOut(msgspec.Struct, kw_only=True):
    channel: str
    position: int | None
    settings: dict[str, Any]  # secrets shown as their env:VAR reference, never a value
    per_second: float | None = None
    per_day: int | None = None
    quiet_hours: str = "21:00-07:00"
    managed_by: str = "pack"  # "pack": the next `tenants apply` rewrites it; "admin": the API


class ChannelIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A channel as an admin enables or changes it. Secret settings are given in clear (kept
    encrypted), as env:VAR references, or left out (or as "********") to keep the stored one."""

    settings: dict[str, Any] = msgspec.field(default_factory=dict)
    position: int | None = None  # place in the citizen's channel plan; null: not in the plan
    per_second: float | None = None  # null: the plugin's usual rate
    per_day: int | None = None  # null: no daily cap
    quiet_hours: str = "21:00-07:00"  # local hours bulk notices wait out; "" for none


class ChannelCheck(msgspec.Struct, kw_only=True):
    """Whether the provider accepts the stored settings, by a cheap call that sends nothing."""

    channel: str
    ok: bool
    failure: str | None = None  # "temporary", "permanent" or "configuration"
    code: str = ""  # the provider's code, or ours ("missing-secret", "bad-settings")
    detail: str = ""
