"""dossiers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 21:15:59.927834
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from motcua.db.migrate import enable_tenant_isolation

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dossier_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_dossier_counters_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "unit_code", "day", name=op.f("pk_dossier_counters")),
    )
    op.create_table(
        "idempotent_requests",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_idempotent_requests_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_idempotent_requests")),
    )
    op.create_table(
        "dossiers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("procedure_code", sa.String(length=32), nullable=False),
        sa.Column("receiving_agency_code", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("applicant_phone", sa.String(length=16), nullable=True),
        sa.Column("applicant_email", sa.String(length=254), nullable=True),
        sa.Column("applicant_id_number", sa.String(length=20), nullable=True),
        sa.Column("documents", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processing_hours", sa.Integer(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timeliness", sa.String(length=8), nullable=True),
        sa.Column("tracking_key", sa.String(length=32), nullable=False),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agency_code"],
            ["agencies.tenant_id", "agencies.code"],
            name=op.f("fk_dossiers_tenant_id_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "procedure_code"],
            ["procedures.tenant_id", "procedures.code"],
            name=op.f("fk_dossiers_tenant_id_procedure_code_procedures"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "receiving_agency_code"],
            ["agencies.tenant_id", "agencies.code"],
            name=op.f("fk_dossiers_tenant_id_receiving_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_dossiers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_dossiers")),
        sa.UniqueConstraint(
            "tenant_id", "external_id", name=op.f("uq_dossiers_tenant_id_external_id")
        ),
    )
    op.create_index(
        "ix_dossiers_tenant_id_agency_code", "dossiers", ["tenant_id", "agency_code"], unique=False
    )
    op.create_index(
        "ix_dossiers_tenant_id_applicant_phone",
        "dossiers",
        ["tenant_id", "applicant_phone"],
        unique=False,
    )
    op.create_index(
        "ix_dossiers_tenant_id_received_at", "dossiers", ["tenant_id", "received_at"], unique=False
    )
    op.create_index(
        "ix_dossiers_tenant_id_status_due_at",
        "dossiers",
        ["tenant_id", "status", "due_at"],
        unique=False,
    )
    op.create_table(
        "dossier_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=False),
        sa.Column("to_agency_code", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dossier_code"],
            ["dossiers.tenant_id", "dossiers.code"],
            name=op.f("fk_dossier_events_tenant_id_dossier_code_dossiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_dossier_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "dossier_code", "seq", name=op.f("pk_dossier_events")),
    )
    op.create_table(
        "ratings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=False),
        sa.Column("attitude", sa.SmallInteger(), nullable=False),
        sa.Column("result", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dossier_code"],
            ["dossiers.tenant_id", "dossiers.code"],
            name=op.f("fk_ratings_tenant_id_dossier_code_dossiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ratings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "dossier_code", name=op.f("pk_ratings")),
    )
    for table in (
        "dossier_counters",
        "idempotent_requests",
        "dossiers",
        "dossier_events",
        "ratings",
    ):
        enable_tenant_isolation(table)


def downgrade() -> None:
    op.drop_table("ratings")
    op.drop_table("dossier_events")
    op.drop_index("ix_dossiers_tenant_id_status_due_at", table_name="dossiers")
    op.drop_index("ix_dossiers_tenant_id_received_at", table_name="dossiers")
    op.drop_index("ix_dossiers_tenant_id_applicant_phone", table_name="dossiers")
    op.drop_index("ix_dossiers_tenant_id_agency_code", table_name="dossiers")
    op.drop_table("dossiers")
    op.drop_table("idempotent_requests")
    op.drop_table("dossier_counters")
