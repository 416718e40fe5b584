"""catalogue, calendar and channel settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 20:54:28.804308
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from motcua.db.migrate import enable_tenant_isolation

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Weighted: name and code (A) above field (B) above documents, result, legal basis (C).
SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, name_folded), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, field_folded), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, other_folded), 'C')"
)


def upgrade() -> None:
    op.create_table(
        "calendar_days",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_calendar_days_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "channel_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_channel_settings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "channel", name=op.f("pk_channel_settings")),
    )
    op.create_table(
        "procedures",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("processing_hours", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Text(), nullable=False),
        sa.Column("documents", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("online_level", sa.String(length=16), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("name_folded", sa.Text(), nullable=False),
        sa.Column("field_folded", sa.Text(), nullable=False),
        sa.Column("other_folded", sa.Text(), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                SEARCH_VECTOR,
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_procedures_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_procedures")),
    )
    op.create_index(
        "ix_procedures_search",
        "procedures",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "procedure_agencies",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_code", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agency_code"],
            ["agencies.tenant_id", "agencies.code"],
            name=op.f("fk_procedure_agencies_tenant_id_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "procedure_code"],
            ["procedures.tenant_id", "procedures.code"],
            name=op.f("fk_procedure_agencies_tenant_id_procedure_code_procedures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_procedure_agencies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "procedure_code", "agency_code", name=op.f("pk_procedure_agencies")
        ),
    )
    op.create_index(
        "ix_procedure_agencies_agency",
        "procedure_agencies",
        ["tenant_id", "agency_code"],
        unique=False,
    )
    op.add_column("tenants", sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True))
    for table in ("calendar_days", "channel_settings", "procedures", "procedure_agencies"):
        enable_tenant_isolation(table)


def downgrade() -> None:
    op.drop_column("tenants", "exported_at")
    op.drop_index("ix_procedure_agencies_agency", table_name="procedure_agencies")
    op.drop_table("procedure_agencies")
    op.drop_index("ix_procedures_search", table_name="procedures", postgresql_using="gin")
    op.drop_table("procedures")
    op.drop_table("channel_settings")
    op.drop_table("calendar_days")
