"""Audit log: the provinces' and the platform's, append-only for the application role.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from motcua.db.migrate import app_role, enable_tenant_isolation

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _who_what() -> list[sa.Column[object]]:
    return [
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("display", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("detail", postgresql.JSONB(), nullable=True),
    ]


def upgrade() -> None:
    role = app_role()
    op.create_table(
        "audit_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        *_who_what(),
        sa.Column("agency_code", sa.String(32), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            ondelete="CASCADE",
            name="fk_audit_events_tenant_id_tenants",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_audit_events"),
    )
    for column in ("action", "subject", "target"):
        op.create_index(
            f"ix_audit_events_tenant_id_{column}_id", "audit_events", ["tenant_id", column, "id"]
        )
    enable_tenant_isolation("audit_events")

    op.create_table(
        "platform_audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_slug", sa.String(63), nullable=True),
        *_who_what(),
        sa.PrimaryKeyConstraint("id", name="pk_platform_audit_events"),
    )
    op.create_index("ix_platform_audit_events_action_id", "platform_audit_events", ["action", "id"])
    # Append-only for the service: the default privileges gave it UPDATE and DELETE.
    # (Removing a province still deletes its rows: the cascade runs as the table owner.)
    for table in ("audit_events", "platform_audit_events"):
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}")
        op.execute(f"GRANT SELECT, INSERT ON {table} TO {role}")


def downgrade() -> None:
    op.drop_table("platform_audit_events")
    op.drop_table("audit_events")
