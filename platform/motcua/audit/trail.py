"""One place that makes every audited action leave its row.

A route declares what it does with ``opt=audited("dossier.event", target="dossier:{code}")``.
Before its handler runs (after the guards: the caller is known), the request's pending row is
kept in a context variable; the first commit of a database session during the request adds
the row to that same transaction. So the change and its trace commit together or not at all,
and no route, service or session has to remember to call anything. A command-line action does
the same with ``audit_scope(...)``. An audited request that succeeded without committing
anything (nothing transactional changed) gets its row in a transaction of its own.
"""

from __future__ import annotations

import contextlib
import getpass
import uuid
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import Insert, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from motcua.audit.models import AuditEvent, PlatformAuditEvent
from motcua.audit.service import Actor, actor_of
from motcua.db.base import Base
from motcua.db.rows import insert_rows
from motcua.db.session import SET_TENANT, Database, TenantScopedSession

AUDIT_OPT = "audit"


@dataclass(frozen=True, slots=True)
class Audited:
    """What a route does, for its audit row."""

    action: str
    # A format string over the route's path parameters: "dossier:{code}". A handler that only
    # learns its target while running (a new dossier's code) sets it with set_target().
    target: str = ""
    # Top-level fields of the JSON body worth keeping ("action", "agency_code"): never
    # personal data, never secrets.
    detail: tuple[str, ...] = ()
    # Query parameters worth keeping, on the same terms (a list read's filters).
    query: tuple[str, ...] = ()


def audited(
    action: str, target: str = "", detail: tuple[str, ...] = (), query: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The route ``opt`` of an audited route."""
    return {AUDIT_OPT: Audited(action, target, detail, query)}


@dataclass(slots=True)
class Pending:
    """The row an action will leave. tenant_id None: the platform's log."""

    action: str
    actor: Actor
    target: str = ""
    client: str | None = None
    detail: dict[str, Any] | None = None
    tenant_id: uuid.UUID | None = None
    tenant_slug: str | None = None
    written: bool = False
    staged_in: set[int] = field(default_factory=set)

    def fields(self) -> dict[str, Any]:
        """The row's values, but for its tenant."""
        common: dict[str, Any] = {
            "subject": self.actor.subject[:120],
            "display": self.actor.display[:200],
            "action": self.action,
            "target": self.target[:300],
            "client": self.client[:64] if self.client else None,
            "detail": self.detail or None,
        }
        if self.tenant_id is None:
            return {"tenant_slug": self.tenant_slug, **common}
        return {"agency_code": self.actor.agency_code, **common}

    def row(self) -> tuple[Insert, dict[str, Any]]:
        """The statement that writes the row, and its values."""
        if self.tenant_id is None:
            return _INSERT_PLATFORM, {"tenant_id": None, **self.fields()}
        return _INSERT_TENANT, {"tenant_id": self.tenant_id, **self.fields()}


# Plain Core, built once: no unit of work to flush, no statement to compile per request.
_INSERT_TENANT = insert(Base.metadata.tables[AuditEvent.__tablename__])
_INSERT_PLATFORM = insert(Base.metadata.tables[PlatformAuditEvent.__tablename__])
_pending: ContextVar[Pending | None] = ContextVar("motcua_audit_pending", default=None)


def set_target(target: str) -> None:
    """Name the target of the action under way, when only the handler knows it."""
    pending = _pending.get()
    if pending is not None:
        pending.target = target


def add_detail(**detail: Any) -> None:
    """Add to the detail of the action under way (no personal data, no secrets)."""
    pending = _pending.get()
    if pending is not None:
        pending.detail = {**(pending.detail or {}), **detail}


@contextlib.contextmanager
def audit_scope(pending: Pending) -> Iterator[Pending]:
    """The actions inside leave this row with their first commit (for the command line)."""
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


def cli_actor() -> Actor:
    """The operator at the command line, by their login on the machine."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = "unknown"
    return Actor(f"cli:{user}", f"{user} (dòng lệnh)")


@contextlib.asynccontextmanager
async def cli_audit(
    db: Database,
    action: str,
    target: str = "",
    *,
    tenant_id: uuid.UUID | None = None,
    tenant_slug: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AsyncIterator[Pending]:
    """A command's row, as its HTTP twin leaves it: with the command's first commit, or, if
    it succeeded without committing anything, alone. A command that fails (raises) leaves
    none. What only the command learns (the tenant of a key) it sets on the Pending."""
    pending = Pending(
        action=action,
        actor=cli_actor(),
        target=target,
        client="cli",
        detail=detail,
        tenant_id=tenant_id,
        tenant_slug=tenant_slug,
    )
    with audit_scope(pending):
        yield pending
        if not pending.written:
            session_for = db.tenant_session(pending.tenant_id) if pending.tenant_id else None
            async with session_for or db.platform_session() as session:
                await session.commit()  # the before_commit hook adds the row


async def write_before_commit(session: AsyncSession) -> None:
    """The request's session writes the province's row itself, through asyncpg
    (db/rows.py), just before its commit: what the hook below would do at that commit, at a
    third of the cost. Any other case is left to the hook."""
    pending = _pending.get()
    if (
        pending is None
        or pending.written
        or pending.staged_in
        or pending.tenant_id is None
        or session.info.get("tenant_id") != pending.tenant_id
    ):
        return
    pending.staged_in.add(id(session.sync_session))  # claimed first, as in _stage
    await insert_rows(session, AuditEvent, [pending.fields()])


@event.listens_for(TenantScopedSession, "before_commit")
def _stage(session: Session) -> None:
    pending = _pending.get()
    if pending is None or pending.written or pending.staged_in:
        return
    if session.in_nested_transaction():  # a savepoint: the real commit comes later
        return
    # Claimed before the statements below, which yield to the event loop: another session
    # of the request committing meanwhile (Litestar closes dependencies concurrently) must
    # not write the row too.
    pending.staged_in.add(id(session))
    if pending.tenant_id is not None and session.info.get("tenant_id") != pending.tenant_id:
        # A platform session (keys are platform rows) writing to the province's log: the
        # row must pass the province's row-level policy, for this transaction only.
        session.execute(SET_TENANT, {"tenant": str(pending.tenant_id)})
    session.execute(*pending.row())


@event.listens_for(TenantScopedSession, "after_commit")
def _written(session: Session) -> None:
    pending = _pending.get()
    if pending is not None and id(session) in pending.staged_in:
        pending.written = True
        pending.staged_in.clear()


@event.listens_for(TenantScopedSession, "after_rollback")
def _unstage(session: Session) -> None:
    pending = _pending.get()
    if pending is not None:
        pending.staged_in.discard(id(session))


@event.listens_for(TenantScopedSession, "after_transaction_end")
def _end(session: Session, transaction: SessionTransaction) -> None:
    # A session closed without committing drops what it staged.
    pending = _pending.get()
    if pending is not None and transaction.parent is None and not pending.written:
        pending.staged_in.discard(id(session))


async def _json_fields(request: Request[Any, Any, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    if not fields or request.method in ("GET", "HEAD", "DELETE"):
        return {}
    try:
        body = await request.json()
    except Exception:  # not JSON: the handler answers the 4xx, the row keeps no detail
        return {}
    if not isinstance(body, dict):
        return {}
    return {name: body[name] for name in fields if isinstance(body.get(name), str | int | bool)}


def _query_fields(request: Request[Any, Any, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    found = {name: request.query_params.get(name) for name in fields}
    return {name: value[:100] for name, value in found.items() if value}


async def begin_request(request: Request[Any, Any, Any]) -> None:
    """The app's before_request hook: the guards have passed, the route's action is known."""
    spec = request.route_handler.opt.get(AUDIT_OPT)
    if not isinstance(spec, Audited):
        return
    principal = request.state.get("principal")
    params = {k: v for k, v in request.path_params.items() if k != "slug"}
    try:
        target = spec.target.format(**params)
    except (KeyError, IndexError, ValueError):
        target = spec.target
    tenant_id = getattr(principal, "tenant_id", None)
    slug = request.path_params.get("tenant_slug") or request.path_params.get("slug")
    _pending.set(
        Pending(
            action=spec.action,
            actor=actor_of(principal) if principal is not None else Actor("anonymous"),
            target=target,
            client=request.client.host if request.client else None,
            detail={
                **await _json_fields(request, spec.detail),
                **_query_fields(request, spec.query),
            },
            tenant_id=tenant_id,
            tenant_slug=None if tenant_id else slug,
        )
    )


class AuditScope:
    """Gives each request its own pending row, and writes it if nothing committed it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Litestar builds this stack per route: a route that is not audited (public tracking,
        # reads) goes straight through.
        spec = (
            scope["route_handler"].opt.get(AUDIT_OPT) if scope["type"] == ScopeType.HTTP else None
        )
        if not isinstance(spec, Audited):
            await self.app(scope, receive, send)
            return
        token = _pending.set(None)
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
            pending = _pending.get()
            if pending is not None and not pending.written and status < 400:
                await _write_alone(scope, pending)
        finally:
            _pending.reset(token)


async def _write_alone(scope: Scope, pending: Pending) -> None:
    db = scope["app"].state.services.db
    session_for = db.tenant_session(pending.tenant_id) if pending.tenant_id else None
    async with session_for or db.platform_session() as session:
        await session.commit()  # the before_commit hook adds the row


def unaudited(reason: str) -> dict[str, Any]:
    """The route ``opt`` of a staff route that changes nothing, with the reason: every
    state-changing route must say whether it is audited (tests/security)."""
    return {AUDIT_OPT: reason}
