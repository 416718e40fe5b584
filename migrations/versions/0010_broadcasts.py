"""topics, areas, subscriptions and broadcasts

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-28 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

from motcua.db.migrate import enable_tenant_isolation

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("topics", "areas", "subscriptions", "broadcasts")


def _tenant(table: str) -> list[SchemaItem]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    ]


def _created() -> sa.Column[sa.DateTime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "topics",
        *_tenant("topics"),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_folded", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("tenant_id", "slug", name=op.f("pk_topics")),
    )
    op.create_table(
        "areas",
        *_tenant("areas"),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_folded", sa.String(length=200), nullable=False),
        sa.Column("short_folded", sa.String(length=200), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("tenant_id", "slug", name=op.f("pk_areas")),
    )
    op.create_table(
        "subscriptions",
        *_tenant("subscriptions"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("address_key", sa.String(length=300), nullable=False),
        sa.Column("recipient", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("topic_slug", sa.String(length=64), nullable=False),
        sa.Column("area_slug", sa.String(length=64), server_default="", nullable=False),
        sa.Column("source", sa.String(length=16), server_default="chat", nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "topic_slug"],
            ["topics.tenant_id", "topics.slug"],
            name=op.f("fk_subscriptions_tenant_id_topic_slug_topics"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint(
            "tenant_id",
            "address_key",
            "topic_slug",
            "area_slug",
            name=op.f("uq_subscriptions_tenant_id_address_key_topic_slug_area_slug"),
        ),
    )
    op.create_index(
        "ix_subscriptions_tenant_id_topic_slug_address_key",
        "subscriptions",
        ["tenant_id", "topic_slug", "address_key"],
    )
    op.create_table(
        "broadcasts",
        *_tenant("broadcasts"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("topic_slug", sa.String(length=64), nullable=False),
        sa.Column("areas", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.String(length=300), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progressed_at", sa.DateTime(timezone=True), nullable=True),
        _created(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "topic_slug"],
            ["topics.tenant_id", "topics.slug"],
            name=op.f("fk_broadcasts_tenant_id_topic_slug_topics"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_broadcasts")),
    )
    op.create_index("ix_broadcasts_tenant_id_status", "broadcasts", ["tenant_id", "status"])
    # A broadcast's notices carry its id in their values: counted and cancelled by it.
    op.execute(
        "CREATE INDEX ix_notices_broadcast_id ON notices "
        "(tenant_id, ((\"values\"->>'broadcast_id')), status) WHERE kind = 'broadcast'"
    )
    for table in TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_notices_broadcast_id")
    for table in reversed(TABLES):
        op.drop_table(table)
