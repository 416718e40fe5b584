"""Staff and sign-in: staff accounts and invitations, the provinces' identity providers,
sign-in sessions with their refresh tokens, the viewer role, officers' keys narrowed to an
agency.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from motcua.db.migrate import enable_tenant_isolation

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new enum value cannot be used in the transaction that adds it: nothing here uses it.
    op.execute("ALTER TYPE key_role ADD VALUE IF NOT EXISTS 'viewer' BEFORE 'integration'")
    op.add_column("api_keys", sa.Column("agency_code", sa.String(32), nullable=True))
    role = postgresql.ENUM(name="key_role", create_type=False)
    now = sa.func.now()

    op.create_table(
        "staff",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", role, nullable=False),
        sa.Column("agency_code", sa.String(32), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("oidc_subject", sa.String(255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], ondelete="CASCADE", name="fk_staff_tenant_id_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agency_code"],
            ["agencies.tenant_id", "agencies.code"],
            name="fk_staff_tenant_id_agency_code_agencies",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_staff"),
        sa.UniqueConstraint("tenant_id", "email", name="uq_staff_tenant_id_email"),
        sa.UniqueConstraint("tenant_id", "oidc_subject", name="uq_staff_tenant_id_oidc_subject"),
    )
    enable_tenant_isolation("staff")
    op.create_table(
        "staff_invitations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name="fk_staff_invitations_tenant_id_tenants",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "staff_id"],
            ["staff.tenant_id", "staff.id"],
            ondelete="CASCADE",
            name="fk_staff_invitations_tenant_id_staff_id_staff",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "token_hash", name="pk_staff_invitations"),
    )
    enable_tenant_isolation("staff_invitations")
    op.create_table(
        "oidc_providers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(300), nullable=False),
        sa.Column("client_secret", sa.String(300), nullable=False),
        sa.Column("scopes", sa.String(300), nullable=False),
        sa.Column("role_claim", sa.String(100), nullable=True),
        sa.Column("role_map", postgresql.JSONB(), nullable=False),
        sa.Column("agency_claim", sa.String(100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name="fk_oidc_providers_tenant_id_tenants",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_oidc_providers"),
    )
    enable_tenant_isolation("oidc_providers")
    op.create_table(
        "sign_in_sessions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("display", sa.String(200), nullable=False),
        sa.Column("role", role, nullable=False),
        sa.Column("agency_code", sa.String(32), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(40), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name="fk_sign_in_sessions_tenant_id_tenants",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_sessions"),
    )
    op.create_index("ix_sign_in_sessions_tenant_id", "sign_in_sessions", ["tenant_id"])
    op.create_index("ix_sign_in_sessions_subject", "sign_in_sessions", ["subject"])
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sign_in_sessions.id"],
            ondelete="CASCADE",
            name="fk_refresh_tokens_session_id_sign_in_sessions",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_refresh_tokens"),
    )
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"])


def downgrade() -> None:
    for table in (
        "refresh_tokens",
        "sign_in_sessions",
        "oidc_providers",
        "staff_invitations",
        "staff",
    ):
        op.drop_table(table)
    op.drop_column("api_keys", "agency_code")
    # PostgreSQL cannot drop an enum value; 'viewer' stays, unused.
