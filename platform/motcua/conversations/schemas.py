"""Conversation wire types: the staff inbox, threads, and what is held about a citizen."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

ThreadStatus = Literal["open", "waiting", "closed"]


class ThreadSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: ThreadStatus
    channel: str
    subject: str
    agency_code: str | None
    assignee: str | None
    last_message_at: datetime
    answer_due_at: datetime | None  # staff owe an answer by then (1 working day)
    flagged: bool  # open and unanswered past answer_due_at
    message_count: int
    citizen_linked: bool  # the citizen confirmed a phone


class ThreadPage(msgspec.Struct, kw_only=True):
    items: list[ThreadSummary]
    total: int
    page: int
    per_page: int


class ThreadMessageOut(msgspec.Struct, kw_only=True):
    seq: int
    author: Literal["citizen", "staff", "system"]
    actor: str
    action: str  # message, assign, close
    text: str
    at: datetime


class ThreadOut(ThreadSummary, kw_only=True):
    messages: list[ThreadMessageOut]


class AssignIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agency_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    assignee: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class ReplyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    close: bool = False  # reply and close in one step


class CitizenData(msgspec.Struct, kw_only=True):
    """What the province holds about one chat identity."""

    id: uuid.UUID
    channel: str
    sender: str
    name: str
    following: bool
    followed_at: datetime | None
    phone: str | None
    phone_confirmed_at: datetime | None
    phone_source: str
    first_seen_at: datetime
    last_seen_at: datetime | None
    messages_received: int
    threads: int
    thread_messages: int
