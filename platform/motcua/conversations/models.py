"""Conversation tables, owned by a tenant: what arrived, who the chat users are, and the
question threads staff answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import TenantOwned


class ReceivedEvent(TenantOwned):
    """One event a provider posted, stored before it is handled. The provider's own id is
    the key: a provider's retry of the same event finds it here and is ignored."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        Index("ix_inbound_events_tenant_id_status_created_at", "tenant_id", "status", "created_at"),
        Index("ix_inbound_events_tenant_id_channel_sender", "tenant_id", "channel", "sender"),
    )

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # follow, unfollow, text, shared_info
    sender: Mapped[str] = mapped_column(String(200))  # the citizen's id in the channel
    text: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)  # phone, name
    status: Mapped[str] = mapped_column(String(12), default="received")  # → handled, failed
    handled_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")


class ChatCitizen(TenantOwned):
    """A chat user known to the province: one per channel identity. A confirmed phone ties
    them to the dossiers taken in with that phone."""

    __tablename__ = "chat_citizens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", "sender"),
        Index("ix_chat_citizens_tenant_id_phone", "tenant_id", "phone"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    channel: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    following: Mapped[bool] = mapped_column(default=False)
    followed_at: Mapped[datetime | None]
    unfollowed_at: Mapped[datetime | None]
    phone: Mapped[str | None] = mapped_column(String(16))  # confirmed, +84…
    phone_confirmed_at: Mapped[datetime | None]
    phone_source: Mapped[str] = mapped_column(String(16), default="")  # "code", "zalo"
    # A phone waiting for its one-time code (only the code's hash is kept).
    pending_phone: Mapped[str | None] = mapped_column(String(16))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    code_tries: Mapped[int] = mapped_column(default=0)
    # A returned dossier whose rating the chat offered and the citizen has not given yet.
    rating_code: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None]


class QuestionThread(TenantOwned):
    """A citizen's question and its answers: open (staff owe an answer), waiting (for the
    citizen), closed."""

    __tablename__ = "question_threads"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "citizen_id"],
            ["chat_citizens.tenant_id", "chat_citizens.id"],
            ondelete="CASCADE",
        ),
        Index(
            "ix_question_threads_tenant_id_status_answer_due_at",
            "tenant_id",
            "status",
            "answer_due_at",
        ),
        Index("ix_question_threads_tenant_id_citizen_id", "tenant_id", "citizen_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID]
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="open")
    subject: Mapped[str] = mapped_column(String(200), default="")
    agency_code: Mapped[str | None] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(200))
    # Staff owe an answer by then (1 working day after the citizen's unanswered message).
    answer_due_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime]
    message_count: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None]


class ThreadMessage(TenantOwned):
    """One line of a thread's history: the citizen's words, a staff reply, or a step."""

    __tablename__ = "thread_messages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "thread_id"],
            ["question_threads.tenant_id", "question_threads.id"],
            ondelete="CASCADE",
        ),
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    author: Mapped[str] = mapped_column(String(12))  # citizen, staff, system
    actor: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(16), default="message")  # message, assign, close
    text: Mapped[str] = mapped_column(Text, default="")
    notice_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime]
