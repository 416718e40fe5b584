"""Conversations over HTTP: the staff inbox of question threads, and what the province
holds about a citizen's chat identity (shown and erased on request)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.trail import audited
from motcua.auth.guards import requires
from motcua.auth.models import Role
from motcua.auth.scope import request_scope
from motcua.auth.service import Principal
from motcua.conversations import identity
from motcua.conversations.models import ChatCitizen
from motcua.conversations.schemas import (
    AssignIn,
    CitizenData,
    ReplyIn,
    ThreadOut,
    ThreadPage,
    ThreadStatus,
)
from motcua.conversations.threads import ThreadService
from motcua.errors import NotFound
from motcua.tenancy.directory import TenantRef

readers = requires(Role.OFFICER, Role.ADMIN, Role.VIEWER)
answerers = requires(Role.OFFICER, Role.ADMIN)


def provide_threads(
    request: Request[Any, Any, Any],
    session: NamedDependency[AsyncSession],
    tenant: NamedDependency[TenantRef],
) -> ThreadService:
    return ThreadService(session, tenant, request_scope(request))


def _principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.state.principal
    return principal


class Threads(Controller):
    path = "/api/v1/threads"
    tags = ["conversations"]

    @get(
        "/",
        summary="The inbox of citizens' questions",
        guards=[readers],
        description="Open (staff owe an answer), waiting (for the citizen) or closed; "
        "`flagged=true`: open and unanswered for a working day. An officer or viewer whose "
        "key is narrowed to an agency sees the threads of that agency and those below it.",
    )
    async def inbox(
        self,
        request: Request[Any, Any, Any],
        threads: NamedDependency[ThreadService],
        status: Annotated[ThreadStatus | None, QueryParameter()] = None,
        agency: Annotated[str | None, QueryParameter(max_length=32)] = None,
        flagged: Annotated[bool | None, QueryParameter()] = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> ThreadPage:
        return await threads.inbox(
            status=status, agency=agency, flagged=flagged, page=page, per_page=per_page
        )

    @get(
        "/{thread_id:uuid}",
        summary="A thread with its full history",
        guards=[readers],
        opt=audited("thread.read", "thread:{thread_id}"),  # a citizen's own words
    )
    async def one(
        self, thread_id: FromPath[uuid.UUID], threads: NamedDependency[ThreadService]
    ) -> ThreadOut:
        return await threads.get(thread_id)

    @post(
        "/{thread_id:uuid}/assign",
        summary="Give a thread to an agency or an officer",
        guards=[answerers],
        opt=audited("thread.assign", "thread:{thread_id}", detail=("agency_code", "assignee")),
        status_code=200,
    )
    async def assign(
        self,
        request: Request[Any, Any, Any],
        thread_id: FromPath[uuid.UUID],
        data: Annotated[AssignIn, Body()],
        threads: NamedDependency[ThreadService],
    ) -> ThreadOut:
        return await threads.assign(thread_id, data, _principal(request).actor)

    @post(
        "/{thread_id:uuid}/reply",
        summary="Answer the citizen (sent on their channel as a notice)",
        guards=[answerers],
        opt=audited("thread.reply", "thread:{thread_id}"),
        status_code=200,
    )
    async def reply(
        self,
        request: Request[Any, Any, Any],
        thread_id: FromPath[uuid.UUID],
        data: Annotated[ReplyIn, Body()],
        threads: NamedDependency[ThreadService],
    ) -> ThreadOut:
        return await threads.reply(thread_id, data, _principal(request).actor)

    @post(
        "/{thread_id:uuid}/close",
        summary="Close a thread",
        guards=[answerers],
        opt=audited("thread.close", "thread:{thread_id}"),
        status_code=200,
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        thread_id: FromPath[uuid.UUID],
        threads: NamedDependency[ThreadService],
    ) -> ThreadOut:
        return await threads.close(thread_id, _principal(request).actor)


async def _citizen(session: AsyncSession, channel: str, sender: str) -> ChatCitizen:
    citizen = await session.scalar(
        select(ChatCitizen).where(ChatCitizen.channel == channel, ChatCitizen.sender == sender)
    )
    if citizen is None:
        raise NotFound("No chat user with that identity.")
    return citizen


class ChatCitizens(Controller):
    path = "/api/v1/chat-citizens/{channel:str}/{sender:str}"
    tags = ["conversations"]

    @get(
        "/",
        summary="What the province holds about a chat identity",
        guards=[answerers],
        opt=audited("chat_citizen.read", "chat:{channel}"),  # the sender is the citizen's id
        description="For a citizen who asks at the counter; in the chat they send "
        '"dữ liệu của tôi".',
    )
    async def held(
        self, channel: FromPath[str], sender: FromPath[str], session: NamedDependency[AsyncSession]
    ) -> CitizenData:
        citizen = await _citizen(session, channel, sender)
        held = await identity.held_about(session, citizen)
        return CitizenData(id=citizen.id, **held)

    @delete(
        "/",
        summary="Erase a chat identity: the citizen, their threads and stored messages",
        guards=[answerers],
        opt=audited("chat_citizen.erase", "chat:{channel}"),
        description='In the chat the citizen sends "xóa dữ liệu". Dossiers are kept.',
    )
    async def erase(
        self, channel: FromPath[str], sender: FromPath[str], session: NamedDependency[AsyncSession]
    ) -> None:
        await identity.erase(session, await _citizen(session, channel, sender))
