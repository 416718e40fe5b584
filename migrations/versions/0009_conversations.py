"""conversations: inbound events, chat citizens, question threads

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from motcua.db.migrate import enable_tenant_isolation

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inbound_events", "chat_citizens", "question_threads", "thread_messages")


def _tenant(table: str) -> list[Any]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    ]


def _created() -> Any:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        *_tenant("inbound_events"),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("tenant_id", "channel", "event_id", name=op.f("pk_inbound_events")),
    )
    op.create_index(
        "ix_inbound_events_tenant_id_status_created_at",
        "inbound_events",
        ["tenant_id", "status", "created_at"],
    )
    op.create_index(
        "ix_inbound_events_tenant_id_channel_sender",
        "inbound_events",
        ["tenant_id", "channel", "sender"],
    )
    op.create_table(
        "chat_citizens",
        *_tenant("chat_citizens"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("followed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unfollowed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("phone_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phone_source", sa.String(length=16), nullable=False),
        sa.Column("pending_phone", sa.String(length=16), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_tries", sa.Integer(), nullable=False),
        sa.Column("rating_code", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        _created(),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_chat_citizens")),
        sa.UniqueConstraint(
            "tenant_id", "channel", "sender", name=op.f("uq_chat_citizens_tenant_id_channel_sender")
        ),
    )
    op.create_index("ix_chat_citizens_tenant_id_phone", "chat_citizens", ["tenant_id", "phone"])
    op.create_table(
        "question_threads",
        *_tenant("question_threads"),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("agency_code", sa.String(length=32), nullable=True),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("answer_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        _created(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "citizen_id"],
            ["chat_citizens.tenant_id", "chat_citizens.id"],
            name=op.f("fk_question_threads_tenant_id_chat_citizens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_question_threads")),
    )
    op.create_index(
        "ix_question_threads_tenant_id_status_answer_due_at",
        "question_threads",
        ["tenant_id", "status", "answer_due_at"],
    )
    op.create_index(
        "ix_question_threads_tenant_id_citizen_id", "question_threads", ["tenant_id", "citizen_id"]
    )
    op.create_table(
        "thread_messages",
        *_tenant("thread_messages"),
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "thread_id"],
            ["question_threads.tenant_id", "question_threads.id"],
            name=op.f("fk_thread_messages_tenant_id_question_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "thread_id", "seq", name=op.f("pk_thread_messages")),
    )
    for table in TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
