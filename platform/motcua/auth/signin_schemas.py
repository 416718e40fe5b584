"""Wire types of sign-in, sessions, staff and identity-provider settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Secret = Annotated[str, msgspec.Meta(max_length=200)]
Code = Annotated[str, msgspec.Meta(max_length=32)]
AgencyCode = Annotated[str, msgspec.Meta(max_length=32)]


class PasswordIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: Secret
    code: Annotated[str, msgspec.Meta(max_length=12)] | None = None  # TOTP, when enabled


class RefreshIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Absent: the refresh cookie (then the request must carry X-CSRF-Token).
    refresh_token: Secret | None = None


class TokensOut(msgspec.Struct, kw_only=True):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int
    csrf_token: str  # also in the motcua_csrf cookie: echo it in X-CSRF-Token


class MeOut(msgspec.Struct, kw_only=True):
    kind: str
    subject: str
    display: str
    role: str
    agency_code: str | None
    tenant_id: uuid.UUID | None


class AcceptIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: Secret
    password: Secret


class TotpOut(msgspec.Struct, kw_only=True):
    secret: str
    uri: str  # otpauth://… for an authenticator app's QR code


class TotpIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code


class StaffIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    role: Literal["admin", "officer", "viewer"]
    agency_code: AgencyCode | None = None


class RoleIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: Literal["admin", "officer", "viewer"]
    agency_code: AgencyCode | None = None  # absent or null: the whole province


class StaffOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    name: str
    role: str
    agency_code: str | None
    active: bool
    totp_enabled: bool
    signs_in_with_provider: bool
    locked_until: datetime | None
    last_sign_in_at: datetime | None


class StaffList(msgspec.Struct, kw_only=True):
    items: list[StaffOut]


class InvitationOut(msgspec.Struct, kw_only=True):
    link: str  # single use; shown once
    expires_in_days: int


class ProviderIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    issuer: Annotated[str, msgspec.Meta(max_length=500)]
    client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    client_secret: Annotated[str, msgspec.Meta(max_length=300)]  # env:VARIABLE
    scopes: Annotated[str, msgspec.Meta(max_length=300)] = "openid email profile"
    role_claim: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    role_map: dict[str, str] = msgspec.field(default_factory=dict)
    agency_claim: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class ProviderOut(ProviderIn, kw_only=True):
    redirect_uri: str  # to register at the provider
