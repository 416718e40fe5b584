"""Question threads: a citizen's message that is no command opens or continues one; staff
assign, answer (through the notice pipeline, on the citizen's channel) and close it. A
thread unanswered for a working day (on the province's calendar) is flagged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.auth.scope import Scope
from motcua.calendar.service import CalendarService
from motcua.catalog.service import CatalogService
from motcua.conversations.identity import address_of
from motcua.conversations.models import ChatCitizen, QuestionThread, ThreadMessage
from motcua.conversations.schemas import (
    AssignIn,
    ReplyIn,
    ThreadMessageOut,
    ThreadOut,
    ThreadPage,
    ThreadSummary,
)
from motcua.dossiers.working_time import WorkCalendar
from motcua.errors import Conflict, Invalid, NotFound
from motcua.notices.outbox import write_notices
from motcua.tenancy.directory import TenantRef

ANSWER_WITHIN_MINUTES: Final = 8 * 60  # one working day
SUBJECT_CHARS: Final = 120


class ThreadService:
    def __init__(self, session: AsyncSession, tenant: TenantRef, scope: Scope = None) -> None:
        self.session = session
        self.tenant = tenant
        # An officer narrowed to an agency sees the threads given to it and to the agencies
        # below it, as with dossiers (auth/scope.py).
        self.scope = scope

    async def _calendar(self) -> WorkCalendar:
        days = await CalendarService(self.session).days()
        return WorkCalendar({day: kind for day, (kind, _) in days.items()}, self.tenant.timezone)

    async def _append(
        self, thread: QuestionThread, author: str, text: str, at: datetime, **extra: object
    ) -> ThreadMessage:
        thread.message_count += 1
        message = ThreadMessage(
            thread_id=thread.id,
            seq=thread.message_count,
            author=author,
            text=text,
            at=at,
            **extra,
        )
        self.session.add(message)
        return message

    # -- the citizen's side ----------------------------------------------------------------

    async def citizen_asks(
        self, citizen: ChatCitizen, text: str, at: datetime
    ) -> tuple[QuestionThread, bool]:
        """Continue the citizen's thread that is not closed, or open one; (thread, new)."""
        thread = await self.session.scalar(
            select(QuestionThread)
            .where(QuestionThread.citizen_id == citizen.id, QuestionThread.status != "closed")
            .order_by(QuestionThread.last_message_at.desc())
            .limit(1)
            .with_for_update()
        )
        new = thread is None
        if thread is None:
            thread = QuestionThread(
                id=uuid.uuid4(),
                citizen_id=citizen.id,
                channel=citizen.channel,
                status="open",
                subject=" ".join(text.split())[:SUBJECT_CHARS],
                last_message_at=at,
                message_count=0,
            )
            self.session.add(thread)
        if thread.status != "open" or thread.answer_due_at is None:
            # The clock starts at the first message staff have not answered.
            calendar = await self._calendar()
            thread.answer_due_at = calendar.add_working_minutes(at, ANSWER_WITHIN_MINUTES)
        thread.status, thread.last_message_at = "open", at
        thread.channel = citizen.channel
        await self._append(thread, "citizen", text, at)
        await self.session.flush()
        return thread, new

    # -- the staff's side ------------------------------------------------------------------

    async def inbox(
        self,
        *,
        status: str | None = None,
        agency: str | None = None,
        flagged: bool | None = None,
        page: int = 1,
        per_page: int = 20,
    ) -> ThreadPage:
        per_page, page = max(1, min(per_page, 100)), max(page, 1)
        now = datetime.now(UTC)
        conditions = []
        if status:
            conditions.append(QuestionThread.status == status)
        if agency:
            conditions.append(QuestionThread.agency_code == agency)
        if self.scope is not None:
            conditions.append(QuestionThread.agency_code.in_(self.scope))
        overdue = and_(QuestionThread.status == "open", QuestionThread.answer_due_at < now)
        if flagged is True:
            conditions.append(overdue)
        elif flagged is False:
            conditions.append(~overdue)
        query = select(QuestionThread, ChatCitizen.phone, func.count().over().label("total")).join(
            ChatCitizen,
            and_(
                ChatCitizen.tenant_id == QuestionThread.tenant_id,
                ChatCitizen.id == QuestionThread.citizen_id,
            ),
        )
        if conditions:
            query = query.where(and_(*conditions))
        rows = (
            await self.session.execute(
                query.order_by(
                    QuestionThread.answer_due_at.asc().nulls_last(),
                    QuestionThread.last_message_at.desc(),
                )
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        ).all()
        total = rows[0].total if rows else 0
        if not rows and page > 1:
            counted = query.with_only_columns(func.count()).order_by(None)
            total = int(await self.session.scalar(counted) or 0)
        return ThreadPage(
            items=[_summary(thread, phone is not None, now) for thread, phone, _ in rows],
            total=total,
            page=page,
            per_page=per_page,
        )

    async def _thread(self, thread_id: uuid.UUID, *, lock: bool = False) -> QuestionThread:
        query = select(QuestionThread).where(QuestionThread.id == thread_id)
        thread = await self.session.scalar(query.with_for_update() if lock else query)
        if thread is None or (self.scope is not None and thread.agency_code not in self.scope):
            raise NotFound(f"No question thread '{thread_id}'.")
        return thread

    async def get(self, thread_id: uuid.UUID) -> ThreadOut:
        thread = await self._thread(thread_id)
        citizen = await self.session.get(ChatCitizen, (thread.tenant_id, thread.citizen_id))
        messages = await self.session.scalars(
            select(ThreadMessage)
            .where(ThreadMessage.thread_id == thread_id)
            .order_by(ThreadMessage.seq)
        )
        summary = _summary(thread, bool(citizen and citizen.phone), datetime.now(UTC))
        return ThreadOut(
            **{f: getattr(summary, f) for f in summary.__struct_fields__},
            messages=[
                ThreadMessageOut(
                    seq=m.seq,
                    author=m.author,  # type: ignore[arg-type]
                    actor=m.actor,
                    action=m.action,
                    text=m.text,
                    at=m.at,
                )
                for m in messages
            ],
        )

    async def assign(self, thread_id: uuid.UUID, data: AssignIn, actor: str) -> ThreadOut:
        if data.agency_code is None and data.assignee is None:
            raise Invalid(
                "Say to which agency or officer.",
                errors=[{"field": "agency_code", "message": "or assignee is required"}],
            )
        thread = await self._thread(thread_id, lock=True)
        steps = []
        if data.agency_code is not None:
            if not await CatalogService(self.session).active_agency(data.agency_code):
                raise Invalid(
                    "Threads go to an active agency of this province.",
                    errors=[{"field": "agency_code", "message": "is not an active agency"}],
                )
            thread.agency_code = data.agency_code
            steps.append(f"cơ quan {data.agency_code}")
        if data.assignee is not None:
            thread.assignee = data.assignee.strip()
            steps.append(f"cán bộ {thread.assignee}")
        await self._append(
            thread,
            "system",
            "Giao cho " + ", ".join(steps),
            datetime.now(UTC),
            actor=actor,
            action="assign",
        )
        await self.session.flush()
        return await self.get(thread_id)

    async def reply(self, thread_id: uuid.UUID, data: ReplyIn, actor: str) -> ThreadOut:
        """The answer goes to the citizen on their channel, through the notice pipeline."""
        text = data.text.strip()
        if not text:
            raise Invalid("A reply needs text.", errors=[{"field": "text", "message": "is empty"}])
        thread = await self._thread(thread_id, lock=True)
        if thread.status == "closed":
            raise Conflict("This thread is closed; the citizen's next message opens a new one.")
        citizen = await self.session.get(ChatCitizen, (thread.tenant_id, thread.citizen_id))
        assert citizen is not None  # the thread goes with its citizen
        agency = self.tenant.name
        if thread.agency_code:
            names = await CatalogService(self.session).agency_names({thread.agency_code})
            agency = names.get(thread.agency_code, agency)
        notices = await write_notices(
            self.session,
            kind="reply",
            to=address_of(thread.channel, citizen.sender),
            values={
                "salutation": "Ông/Bà",
                "province": self.tenant.name,
                "agency": agency,
                "reply": text,
            },
            dossier_code=None,
            test=False,
            channels=[thread.channel],
        )
        now = datetime.now(UTC)
        await self._append(
            thread, "staff", text, now, actor=actor, notice_id=notices[0].id if notices else None
        )
        thread.last_message_at, thread.answer_due_at = now, None
        thread.status = "waiting"
        if data.close:
            thread.status, thread.closed_at = "closed", now
        await self.session.flush()
        return await self.get(thread_id)

    async def close(self, thread_id: uuid.UUID, actor: str) -> ThreadOut:
        thread = await self._thread(thread_id, lock=True)
        if thread.status != "closed":
            now = datetime.now(UTC)
            thread.status, thread.closed_at, thread.answer_due_at = "closed", now, None
            await self._append(thread, "system", "Đóng", now, actor=actor, action="close")
            await self.session.flush()
        return await self.get(thread_id)


def _summary(thread: QuestionThread, linked: bool, now: datetime) -> ThreadSummary:
    return ThreadSummary(
        id=thread.id,
        status=thread.status,  # type: ignore[arg-type]
        channel=thread.channel,
        subject=thread.subject,
        agency_code=thread.agency_code,
        assignee=thread.assignee,
        last_message_at=thread.last_message_at,
        answer_due_at=thread.answer_due_at,
        flagged=is_flagged(thread, now),
        message_count=thread.message_count,
        citizen_linked=linked,
    )


def is_flagged(thread: QuestionThread, now: datetime) -> bool:
    """Open, and staff have not answered within the working day they had."""
    return (
        thread.status == "open" and thread.answer_due_at is not None and thread.answer_due_at < now
    )
