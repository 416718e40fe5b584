"""Sign-in sessions: a short-lived access token, a refresh token used once, sign-out.

Each refresh answers a new refresh token and retires the one presented. A retired token
presented again means it was copied: the whole session is revoked, for the thief and the
owner alike, and the owner signs in again. A staff member's refresh reads their staff record
again: a new role or agency applies from then on, and a deactivated account gets nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.auth.models import RefreshToken, SignInSession, Staff
from motcua.auth.service import Principal
from motcua.auth.tokens import ACCESS_SECONDS, SessionSigner, revoked_key
from motcua.db.session import SET_TENANT
from motcua.errors import Unauthorized
from motcua.settings import Settings

SESSION_LIFETIME = timedelta(hours=12)  # a working day; then sign in again

Method = Literal["oidc", "password"]


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    session: SignInSession


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class SessionService:
    """On a platform session (sessions are found by their refresh token alone), or on the
    province's session when its admin ends a staff member's sessions."""

    def __init__(
        self, session: AsyncSession, signer: SessionSigner, redis: ArqRedis, settings: Settings
    ) -> None:
        self.session = session
        self.signer = signer
        self.redis = redis
        self.settings = settings

    async def start(self, principal: Principal, method: Method) -> Tokens:
        row = SignInSession(
            id=secrets.token_hex(16),
            tenant_id=principal.tenant_id,
            kind=principal.kind,
            subject=principal.subject,
            display=principal.display,
            role=principal.role,
            agency_code=principal.agency_code,
            method=method,
            expires_at=datetime.now(UTC) + SESSION_LIFETIME,
        )
        self.session.add(row)
        await self.session.flush()
        return await self._tokens(row)

    async def _tokens(self, row: SignInSession) -> Tokens:
        refresh = secrets.token_urlsafe(32)
        self.session.add(RefreshToken(token_hash=_hash(refresh), session_id=row.id))
        await self.session.flush()
        access = self.signer.issue(principal_of(row), row.id)
        return Tokens(access, refresh, ACCESS_SECONDS, row)

    async def refresh(self, refresh_token: str, tenant_id: uuid.UUID | None) -> Tokens:
        """New tokens for a refresh token used for the first time; a second use revokes.
        Presented where its session was not opened (another province, or a province's at
        the platform), it is refused untouched: still good where it belongs."""
        found = await self.session.execute(
            select(RefreshToken, SignInSession)
            .join(SignInSession, SignInSession.id == RefreshToken.session_id)
            .where(RefreshToken.token_hash == _hash(refresh_token))
            .with_for_update()
        )
        row = found.first()
        if row is None:
            raise Unauthorized("The refresh token is unknown; sign in again.")
        token, signed_in = row[0], row[1]
        if signed_in.tenant_id != tenant_id:
            raise Unauthorized(
                "This session belongs to a province; refresh it there."
                if tenant_id is None
                else "This session belongs to another province."
            )
        now = datetime.now(UTC)
        if signed_in.revoked_at is not None or signed_in.expires_at < now:
            raise Unauthorized("This session has ended; sign in again.")
        if token.used_at is not None:
            await self.revoke(signed_in, "refresh token reused")
            raise ReusedRefreshToken(signed_in)
        token.used_at = now
        if signed_in.kind == "staff" and signed_in.tenant_id is not None:
            staff = await self._staff_now(signed_in.tenant_id, signed_in.subject)
            if staff is None or not staff.active:
                await self.revoke(signed_in, "staff deactivated")
                raise StaffGone(signed_in)
            signed_in.role, signed_in.agency_code = staff.role, staff.agency_code
            signed_in.display = staff.name
        return await self._tokens(signed_in)

    async def _staff_now(self, tenant_id: uuid.UUID, subject: str) -> Staff | None:
        """The staff record as it is now. Staff rows are the province's: this transaction
        is scoped to the session's province before it reads one."""
        try:
            staff_id = uuid.UUID(subject.removeprefix("staff:"))
        except ValueError:
            return None
        await self.session.execute(SET_TENANT, {"tenant": str(tenant_id)})
        found: Staff | None = await self.session.scalar(
            select(Staff).where(Staff.tenant_id == tenant_id, Staff.id == staff_id)
        )
        return found

    async def end_all(self, principal: Principal, reason: str) -> int:
        """Revoke every open session of this person in their province; how many."""
        open_now = await self.session.scalars(
            select(SignInSession).where(
                SignInSession.subject == principal.subject,
                SignInSession.tenant_id == principal.tenant_id,
                SignInSession.revoked_at.is_(None),
                SignInSession.expires_at > datetime.now(UTC),
            )
        )
        ended = 0
        for row in open_now.all():
            await self.revoke(row, reason)
            ended += 1
        return ended

    async def by_id(self, session_id: str) -> SignInSession | None:
        return await self.session.get(SignInSession, session_id)

    async def revoke(self, signed_in: SignInSession, reason: str) -> None:
        """End the session now: refresh is refused, and its access tokens are refused too
        (remembered in Redis for as long as the last of them could still be valid)."""
        if signed_in.revoked_at is None:
            signed_in.revoked_at = datetime.now(UTC)
            signed_in.revoked_reason = reason[:40]
        await self.redis.set(revoked_key(self.settings, signed_in.id), b"1", ex=ACCESS_SECONDS)


class SessionRevoked(Unauthorized):
    """A refresh that revoked its session: commit the revocation, record `action`."""

    action = "auth.session_revoked"
    message = "This session is ended. Sign in again."

    def __init__(self, signed_in: SignInSession) -> None:
        super().__init__(self.message)
        self.signed_in = signed_in


class ReusedRefreshToken(SessionRevoked):
    """A refresh token presented a second time."""

    action = "auth.refresh_reused"
    message = "This refresh token was already used; the session is ended. Sign in again."


class StaffGone(SessionRevoked):
    """The staff member was deactivated (or removed) since signing in."""

    action = "auth.refresh_refused"
    message = "This staff account is deactivated; the session is ended."


def principal_of(row: SignInSession) -> Principal:
    kind: Literal["staff", "operator"] = "operator" if row.kind == "operator" else "staff"
    return Principal(
        kind=kind,
        subject=row.subject,
        tenant_id=row.tenant_id,
        role=row.role,
        display=row.display,
        agency_code=row.agency_code,
        session_id=row.id,
    )
