"""Keys, staff, sign-in sessions and the provinces' identity providers.

API keys and sessions are platform tables: they are found before their tenant is trusted."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import Base, TenantOwned


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    VIEWER = "viewer"  # reads what an officer reads, changes nothing
    INTEGRATION = "integration"
    OPERATOR = "operator"  # platform operators only


class ApiKey(Base):
    __tablename__ = "api_keys"

    # The public half of the key, used to find it; the secret half is stored hashed only.
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="key_role", values_callable=lambda e: [m.value for m in e])
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    # A test key's dossiers send their notices to the simulator, never to a citizen.
    test: Mapped[bool] = mapped_column(default=False)
    # An officer's or viewer's key may be narrowed to an agency and the agencies below it.
    agency_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]


_ROLE_TYPE = Enum(Role, name="key_role", values_callable=lambda e: [m.value for m in e])


class Staff(TenantOwned):
    """A province's staff member: signs in with the province's provider or a password."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("tenant_id", "oidc_subject"),
        ForeignKeyConstraint(["tenant_id", "agency_code"], ["agencies.tenant_id", "agencies.code"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254))  # kept lower-case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_ROLE_TYPE)
    agency_code: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # The TOTP secret, encrypted with the platform's secret keys; enabled once confirmed.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # The provider's `sub` once this person has signed in through it.
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    last_sign_in_at: Mapped[datetime | None]


class StaffInvitation(TenantOwned):
    """A single-use, expiring link that lets a staff member choose a password."""

    __tablename__ = "staff_invitations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "staff_id"], ["staff.tenant_id", "staff.id"], ondelete="CASCADE"
        ),
    )

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    staff_id: Mapped[uuid.UUID]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class OidcProvider(TenantOwned):
    """A province's identity provider (from its pack's [auth.oidc], or set by an admin)."""

    __tablename__ = "oidc_providers"

    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret: Mapped[str] = mapped_column(String(300))  # an env:VAR reference only
    scopes: Mapped[str] = mapped_column(String(300), default="openid email profile")
    # Claims that carry the role (values mapped by role_map) and the agency code; when
    # unset, role and agency come from the platform's own staff records.
    role_claim: Mapped[str | None] = mapped_column(String(100))
    role_map: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    agency_claim: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class SignInSession(Base):
    """A sign-in, from the first token to sign-out or expiry. A platform table: a refresh
    token must find its session before the province is known."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # staff or operator
    subject: Mapped[str] = mapped_column(String(120), index=True)
    display: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(_ROLE_TYPE)
    agency_code: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))  # oidc or password
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]  # no refresh beyond this: sign in again
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(Base):
    """Each refresh token is used once; presenting a used one again revokes the session."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sign_in_sessions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    used_at: Mapped[datetime | None]
