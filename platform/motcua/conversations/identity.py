"""Who a chat user is: a citizen of the province, known by their channel identity, tied to
their dossiers by a phone they confirmed (a one-time code by SMS, or the phone Zalo shares
with their consent). Also what dossier notices need: the chat address of a linked citizen."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Select, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.broadcasts.models import Subscription
from motcua.conversations.models import ChatCitizen, QuestionThread, ReceivedEvent, ThreadMessage
from motcua.db import current_tenant
from motcua.db.rows import driver
from motcua.dossiers.models import Dossier
from motcua.notices.channel import Address
from motcua.notices.delivery import GONE
from motcua.notices.models import Notice
from motcua.notices.outbox import write_notices

CODE_LIFETIME: Final = timedelta(minutes=10)
CODE_TRIES: Final = 5
# Chat channels whose identity can receive dossier notices (a follower of the OA).
CHAT_FIELD: Final = {"zalo": "zalo_user_id"}
# The notices the chat itself writes: its answers, officers' replies, offers, codes.
CHAT_KINDS: Final = ("chat", "reply", "rating_offer", "phone_code")
# Which field of an Address a channel's sender id is (the portal: the province's own system).
SENDER_FIELD: Final = {
    "zalo": "zalo_user_id",
    "sms": "phone",
    "email": "email",
    "webhook": "portal_user_id",
}
# Sender ids that exist only in the chat (a phone or an email is also the dossier's).
CHAT_ONLY_FIELDS: Final = frozenset({"zalo_user_id", "portal_user_id"})


def address_of(channel: str, sender: str) -> Address:
    """Where a reply reaches a citizen on the channel they wrote from."""
    field = SENDER_FIELD.get(channel)
    return Address(**{field: sender}) if field else Address()


async def citizen_for(
    session: AsyncSession, channel: str, sender: str, *, lock: bool = True
) -> ChatCitizen:
    """The citizen behind a channel identity, made on first contact, locked for this
    transaction so one citizen's messages are handled one after another."""
    await session.execute(
        insert(ChatCitizen)
        .values(
            tenant_id=current_tenant(session),
            id=uuid.uuid4(),
            channel=channel,
            sender=sender,
            name="",
            following=False,
            phone_source="",
            code_tries=0,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "channel", "sender"])
    )
    query = select(ChatCitizen).where(ChatCitizen.channel == channel, ChatCitizen.sender == sender)
    if lock:
        query = query.with_for_update()
    citizen = await session.scalar(query.execution_options(populate_existing=True))
    assert citizen is not None
    return citizen


def follow(citizen: ChatCitizen, following: bool, at: datetime) -> None:
    citizen.following = following
    if following:
        citizen.followed_at = at
    else:
        citizen.unfollowed_at = at


def link_phone(citizen: ChatCitizen, phone: str, source: str, at: datetime) -> None:
    citizen.phone, citizen.phone_source, citizen.phone_confirmed_at = phone, source, at
    citizen.pending_phone = citizen.code_hash = citizen.code_expires_at = None
    citizen.code_tries = 0


def _code_hash(citizen: ChatCitizen, phone: str, code: str) -> str:
    # Bound to the citizen and the phone: a code is worth nothing for another pair.
    message = f"{citizen.tenant_id}|{citizen.id}|{phone}|{code}".encode()
    return hashlib.sha256(message).hexdigest()


def new_code(citizen: ChatCitizen, phone: str, now: datetime) -> str:
    """A fresh six-digit code for this phone; only its hash is kept."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    citizen.pending_phone = phone
    citizen.code_hash = _code_hash(citizen, phone, code)
    citizen.code_expires_at = now + CODE_LIFETIME
    citizen.code_tries = 0
    return code


def check_code(citizen: ChatCitizen, code: str, now: datetime) -> str:
    """'ok' (the phone is linked), 'wrong', 'expired' or 'none' (no code was asked for)."""
    if not citizen.pending_phone or not citizen.code_hash or citizen.code_expires_at is None:
        return "none"
    if citizen.code_expires_at < now or citizen.code_tries >= CODE_TRIES:
        citizen.pending_phone = citizen.code_hash = citizen.code_expires_at = None
        return "expired"
    citizen.code_tries += 1
    expected = _code_hash(citizen, citizen.pending_phone, code)
    if not hmac.compare_digest(expected, citizen.code_hash):
        return "wrong"
    link_phone(citizen, citizen.pending_phone, "code", now)
    return "ok"


async def dossiers_of(session: AsyncSession, phone: str, limit: int = 10) -> list[Dossier]:
    """A confirmed phone's dossiers, newest first."""
    rows = await session.scalars(
        select(Dossier)
        .where(Dossier.applicant_phone == phone)
        .order_by(Dossier.received_at.desc(), Dossier.code.desc())
        .limit(limit)
    )
    return list(rows.all())


async def find_dossier(session: AsyncSession, code: str) -> Dossier | None:
    """A dossier by its code as a citizen types it: any case."""
    return await session.scalar(select(Dossier).where(func.upper(Dossier.code) == code.upper()))


# -- what dossier notices need ---------------------------------------------------------


def _linked_rows(phone: str, *columns: Any) -> Select[Any]:
    """The chat identities that confirmed this phone, the latest first."""
    return (
        select(*columns)
        .where(
            ChatCitizen.phone == phone,
            # Not one who unfollowed; one who only wrote to the OA is tried, and Zalo's
            # refusal outside its window fails the notice over to the next channel.
            ChatCitizen.following | ChatCitizen.unfollowed_at.is_(None),
            ChatCitizen.channel.in_(list(CHAT_FIELD)),
        )
        .order_by(ChatCitizen.phone_confirmed_at.desc())
    )


async def _linked(session: AsyncSession, phone: str | None) -> list[ChatCitizen]:
    if not phone:
        return []
    return list((await session.scalars(_linked_rows(phone, ChatCitizen))).all())


# _linked_rows' rule, as plain SQL: every dossier notice asks it (db/rows.py, why).
_LINKED_SENDER = (
    "SELECT sender FROM chat_citizens"
    " WHERE phone = $1 AND (following OR unfollowed_at IS NULL) AND channel = ANY($2::text[])"
    " ORDER BY phone_confirmed_at DESC LIMIT 1"
)


async def reach_in_chat(session: AsyncSession, to: Address) -> Address:
    """The citizen's address with their chat identity added, when a follower confirmed
    this phone: their dossier notices then reach them in the chat first."""
    if not to.phone or to.zalo_user_id:
        return to
    connection = await driver(session)
    sender = await connection.fetchval(_LINKED_SENDER, to.phone, list(CHAT_FIELD))
    if sender is None:
        return to
    return Address(phone=to.phone, email=to.email, zalo_user_id=sender)


async def offer_rating(
    session: AsyncSession, dossier_code: str, phone: str | None, values: dict[str, str], test: bool
) -> None:
    """After a dossier is returned: the chat offers the tracking page's rating, and the
    citizen's next 1/2/3 answers it."""
    for citizen in await _linked(session, phone):
        citizen.rating_code = dossier_code
        await write_notices(
            session,
            kind="rating_offer",
            to=address_of(citizen.channel, citizen.sender),
            values=values,
            dossier_code=dossier_code,
            test=test,
            channels=[citizen.channel],
        )


# -- what the province holds, and erasing it ------------------------------------------


async def held_about(session: AsyncSession, citizen: ChatCitizen) -> dict[str, Any]:
    """Everything kept about this chat identity, as the citizen may read it."""
    events = int(
        await session.scalar(
            select(func.count()).where(
                ReceivedEvent.channel == citizen.channel, ReceivedEvent.sender == citizen.sender
            )
        )
        or 0
    )
    threads = list(
        (
            await session.scalars(
                select(QuestionThread).where(QuestionThread.citizen_id == citizen.id)
            )
        ).all()
    )
    messages = int(
        await session.scalar(
            select(func.count()).where(
                ThreadMessage.thread_id.in_([t.id for t in threads] or [uuid.uuid4()])
            )
        )
        or 0
    )
    return {
        "channel": citizen.channel,
        "sender": citizen.sender,
        "name": citizen.name,
        "following": citizen.following,
        "followed_at": citizen.followed_at,
        "phone": citizen.phone,
        "phone_confirmed_at": citizen.phone_confirmed_at,
        "phone_source": citizen.phone_source,
        "first_seen_at": citizen.created_at,
        "last_seen_at": citizen.last_seen_at,
        "messages_received": events,
        "threads": len(threads),
        "thread_messages": messages,
    }


async def erase(session: AsyncSession, citizen: ChatCitizen) -> None:
    """Forget the chat identity: the citizen, their threads, every stored event, the chat's
    messages to them and the subscriptions they made in it. Their dossiers and the dossier
    notices stay, without the chat id: they are the province's records, not the chat's."""
    await session.execute(
        delete(ReceivedEvent).where(
            ReceivedEvent.channel == citizen.channel, ReceivedEvent.sender == citizen.sender
        )
    )
    field, sender = SENDER_FIELD.get(citizen.channel), citizen.sender
    if field:
        to_them = and_(Notice.kind.in_(CHAT_KINDS), Notice.recipient[field].astext == sender)
        await session.execute(
            update(Notice).where(to_them, Notice.status.in_(GONE)).values(values={}, recipient={})
        )
        # Still on their way (this erasure's confirmation among them): cleared once gone.
        await session.execute(
            update(Notice).where(to_them, Notice.status.not_in(GONE)).values(forget=True)
        )
        await session.execute(
            delete(Subscription).where(
                Subscription.recipient[field].astext == sender, Subscription.source == "chat"
            )
        )
    if field in CHAT_ONLY_FIELDS:
        # Dossier notices still on their way go by the phone instead (Zalo's ZNS, SMS).
        await session.execute(
            update(Notice)
            .where(Notice.kind.not_in(CHAT_KINDS), Notice.recipient[field].astext == sender)
            .values(recipient=Notice.recipient.op("-")(field))
        )
    await session.delete(citizen)  # threads and their messages go with it (cascade)
    await session.flush()


def now() -> datetime:
    return datetime.now(UTC)
