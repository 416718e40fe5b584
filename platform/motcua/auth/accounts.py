"""Local staff accounts: argon2 passwords, invitation links, lockout, optional TOTP.

For provinces without an identity provider, and for development. Staff records also give
role and agency to people who sign in through a provider that does not carry them.

Guessing is slowed three ways (docs/security.md): wrong attempts from one address lock
that address out of the account for a while (not the account: a stranger cannot keep its
owner out from one address); attempts on one account from anywhere are limited a minute;
and only many wrong attempts in a row, which take several addresses, lock the account
for everyone. The sign-in routes are also limited per address (security/limits.py).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Literal, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.auth import totp
from motcua.auth.models import Role, Staff, StaffInvitation
from motcua.auth.service import Principal
from motcua.auth.sessions import SessionService
from motcua.catalog.service import CatalogService
from motcua.db import current_tenant
from motcua.errors import Conflict, Invalid, NotFound, Problem, Unauthorized
from motcua.notices.vault import Vault

STAFF_ROLES = frozenset({Role.ADMIN, Role.OFFICER, Role.VIEWER})
MAX_FAILURES = 5  # wrong attempts from one address before it is locked out of the account
LOCK_FOR = timedelta(minutes=15)
# Wrong attempts in a row, from any addresses, before the account locks for everyone: more
# than one address can make before it is locked out.
MAX_FAILURES_ANY_ADDRESS = 20
ATTEMPTS_PER_MINUTE = 10  # on one account, from anywhere, that reach the password check
INVITATION_LIFETIME = timedelta(days=3)
MIN_PASSWORD = 10
WRONG = "The e-mail address or the password is wrong."

_hasher = PasswordHasher()
# Verified against when the address is unknown, so that the answer takes as long either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountLocked(Problem):
    status = HTTPStatus.LOCKED


class AttemptCounter(Protocol):
    """Counts attempts on an account in a window, in a store every process shares
    (security/limits.py): (attempts so far, seconds left in the window)."""

    async def hit(self, account: str, window: int) -> tuple[int, int]: ...


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a sign-in failed, for the audit log; the client only learns WRONG, or that it
    must wait."""

    reason: str
    staff: Staff | None
    locked: bool = False  # 423: this address is locked out of the account, or everyone is
    locked_now: Literal["address", "account"] | None = None  # this attempt locked it
    retry_after: int | None = None  # 429: too many attempts on the account this minute


def principal_of(staff: Staff) -> Principal:
    return Principal(
        kind="staff",
        subject=f"staff:{staff.id}",
        tenant_id=staff.tenant_id,
        role=staff.role,
        display=staff.name,
        agency_code=staff.agency_code,
    )


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class StaffService:
    def __init__(self, session: AsyncSession, vault: Vault, redis: ArqRedis, prefix: str) -> None:
        self.session = session
        self.vault = vault
        self.redis = redis  # remembers used one-time codes
        self.prefix = prefix

    # -- records -------------------------------------------------------------------------

    async def create(
        self, *, email: str, name: str, role: Role, agency_code: str | None = None
    ) -> Staff:
        if role not in STAFF_ROLES:
            raise Invalid("Staff are admins, officers or viewers.")
        if agency_code is not None and not await CatalogService(self.session).active_agency(
            agency_code
        ):
            raise Invalid(
                f"The province has no active agency '{agency_code}'.",
                errors=[{"field": "agency_code", "message": "is not an active agency"}],
            )
        staff = Staff(email=email.strip().lower(), name=name.strip(), role=role)
        staff.agency_code = agency_code
        self.session.add(staff)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            raise Conflict(f"A staff member with the address {email} exists already.") from None
        return staff

    async def get(self, staff_id: uuid.UUID) -> Staff:
        staff = await self.session.scalar(select(Staff).where(Staff.id == staff_id))
        if staff is None:
            raise NotFound(f"No staff member '{staff_id}'.")
        return staff

    async def by_email(self, email: str) -> Staff | None:
        query = select(Staff).where(Staff.email == email.strip().lower())
        return await self.session.scalar(query)

    async def list(self) -> list[Staff]:
        return list((await self.session.scalars(select(Staff).order_by(Staff.email))).all())

    async def deactivate(self, staff_id: uuid.UUID, sessions: SessionService) -> Staff:
        """No more sign-ins, and the sessions open now end at once: their access tokens are
        refused from the next request, their refresh tokens fail."""
        staff = await self.get(staff_id)
        staff.active = False
        await sessions.end_all(principal_of(staff), "staff deactivated")
        return staff

    async def reactivate(self, staff_id: uuid.UUID) -> Staff:
        """Sign-ins again, with a clean count of failures; the sessions that deactivation
        ended stay ended."""
        staff = await self.get(staff_id)
        if staff.active:
            raise Conflict("This staff member is active already.")
        staff.active = True
        await self._clear_lockouts(staff)
        await self.session.flush()
        return staff

    async def unlock(self, staff_id: uuid.UUID) -> Staff:
        """End every lockout of this account at once, the account's and each address's: the
        admin knows the person who called, where the 15 minutes would make them wait."""
        staff = await self.get(staff_id)
        await self._clear_lockouts(staff)
        await self.session.flush()
        return staff

    async def change_role(self, staff_id: uuid.UUID, role: Role, agency_code: str | None) -> Staff:
        """A new role and agency; open sessions take them at their next refresh."""
        if role not in STAFF_ROLES:
            raise Invalid("Staff are admins, officers or viewers.")
        if agency_code is not None and not await CatalogService(self.session).active_agency(
            agency_code
        ):
            raise Invalid(
                f"The province has no active agency '{agency_code}'.",
                errors=[{"field": "agency_code", "message": "is not an active agency"}],
            )
        staff = await self.get(staff_id)
        staff.role, staff.agency_code = role, agency_code
        await self.session.flush()
        return staff

    # -- invitations ---------------------------------------------------------------------

    async def invite(self, staff_id: uuid.UUID) -> str:
        """A new single-use invitation token (earlier unused ones stay valid until expiry)."""
        staff = await self.get(staff_id)
        token = secrets.token_urlsafe(32)
        self.session.add(
            StaffInvitation(
                token_hash=_token_hash(token),
                staff_id=staff.id,
                expires_at=datetime.now(UTC) + INVITATION_LIFETIME,
            )
        )
        await self.session.flush()
        return token

    async def accept(self, token: str, password: str) -> Staff:
        """Set the password chosen through an invitation link; the link then stops working."""
        invitation = await self.session.scalar(
            select(StaffInvitation)
            .where(StaffInvitation.token_hash == _token_hash(token))
            .with_for_update()
        )
        now = datetime.now(UTC)
        if invitation is None or invitation.used_at is not None or invitation.expires_at < now:
            raise NotFound("This invitation link is unknown, used or expired.")
        _check_password(password)
        staff = await self.get(invitation.staff_id)
        staff.password_hash = _hasher.hash(password)
        await self._clear_lockouts(staff)  # a new password: no lockout earned by the old one
        invitation.used_at = now
        return staff

    # -- signing in ----------------------------------------------------------------------

    async def check_password(
        self,
        email: str,
        password: str,
        code: str | None,
        *,
        address: str,
        attempts: AttemptCounter | None = None,
    ) -> Staff | Failure:
        """The staff member, or why not. A failure is counted against the account from this
        address, and against the account itself; the caller commits either way, so a failure
        is remembered."""
        staff = await self.by_email(email)
        now = datetime.now(UTC)
        hashed = staff.password_hash if staff is not None and staff.active else None
        if staff is not None and hashed is not None:
            if await self._locked_out(staff, address):
                return Failure("locked out for this address", staff, locked=True)
            if staff.locked_until is not None and staff.locked_until > now:
                return Failure("account locked", staff, locked=True)
        if attempts is not None:
            # Unknown addresses count too: a 429 must not tell which accounts exist.
            account = f"{current_tenant(self.session)}:{email.strip().lower()}"
            count, left = await attempts.hit(account, 60)
            if count > ATTEMPTS_PER_MINUTE:
                return Failure("too many attempts on the account", staff, retry_after=left or 60)
        if staff is None or hashed is None:
            _verify(_DUMMY_HASH, password)
            return Failure("unknown or inactive account", staff)
        if not _verify(hashed, password):
            return await self._failed(staff, "wrong password", now, address)
        if staff.totp_enabled:
            secret = self._totp_secret(staff)
            if not code:
                return Failure("one-time code missing", staff)
            if secret is None or (step := totp.matching_step(secret, code)) is None:
                return await self._failed(staff, "wrong one-time code", now, address)
            if not await self._first_use(staff, step):
                return await self._failed(staff, "one-time code already used", now, address)
        staff.failed_attempts, staff.locked_until = 0, None
        staff.last_sign_in_at = now
        await self.redis.delete(self._failures_key(staff, address))
        if _hasher.check_needs_rehash(hashed):
            staff.password_hash = _hasher.hash(password)
        return staff

    def _failures_key(self, staff: Staff, address: str) -> str:
        return f"{self.prefix}:sign-in-failures:{staff.id}:{address}"

    def _failed_from_key(self, staff: Staff) -> str:
        """The addresses that failed on the account lately: its lockouts, found without a
        search of the Redis every process shares."""
        return f"{self.prefix}:sign-in-failures:{staff.id}"

    async def _clear_lockouts(self, staff: Staff) -> None:
        """End every lockout of the account: its own, and each address's."""
        staff.failed_attempts, staff.locked_until = 0, None
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.smembers(self._failed_from_key(staff))
            pipe.delete(self._failed_from_key(staff))
            addresses, _ = await pipe.execute()
        if addresses:
            await self.redis.delete(*(self._failures_key(staff, _text(a)) for a in addresses))

    async def _locked_out(self, staff: Staff, address: str) -> bool:
        failures = await self.redis.get(self._failures_key(staff, address))
        return int(failures or 0) >= MAX_FAILURES

    async def _failed(self, staff: Staff, reason: str, now: datetime, address: str) -> Failure:
        key, seconds = self._failures_key(staff, address), int(LOCK_FOR.total_seconds())
        failed_from = self._failed_from_key(staff)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=seconds, nx=True)  # the window opens at the first failure
            pipe.incr(key)
            pipe.sadd(failed_from, address)
            pipe.expire(failed_from, seconds)  # as long as any lockout it may hold
            _, failures, *_ = await pipe.execute()
        staff.failed_attempts += 1
        if staff.failed_attempts >= MAX_FAILURES_ANY_ADDRESS:
            staff.failed_attempts = 0
            staff.locked_until = now + LOCK_FOR
            return Failure(reason, staff, locked=True, locked_now="account")
        if failures >= MAX_FAILURES:
            await self.redis.expire(key, seconds)  # locked out for LOCK_FOR from now
            return Failure(reason, staff, locked=True, locked_now="address")
        return Failure(reason, staff)

    # -- one-time codes ------------------------------------------------------------------

    async def begin_totp(self, staff_id: uuid.UUID, issuer: str) -> tuple[str, str]:
        """A new secret (not yet required): the secret and its otpauth:// address."""
        staff = await self.get(staff_id)
        secret = totp.new_secret()
        staff.totp_secret = self.vault.encrypt(secret)
        staff.totp_enabled = False
        return secret, totp.provisioning_uri(secret, staff.email, issuer)

    async def confirm_totp(self, staff_id: uuid.UUID, code: str) -> Staff:
        """Require codes from now on, once the staff member shows one from their app."""
        staff = await self.get(staff_id)
        secret = self._totp_secret(staff)
        if secret is None:
            raise Invalid("Start the one-time code set-up first.")
        step = totp.matching_step(secret, code)
        if step is None:
            raise Unauthorized("The one-time code is wrong.")
        if not await self._first_use(staff, step):
            raise Unauthorized("This one-time code was already used; wait for the next one.")
        staff.totp_enabled = True
        return staff

    async def _first_use(self, staff: Staff, step: int) -> bool:
        """Remember the code of this step as used, for as long as it would be accepted;
        False if it was already (a code seen over someone's shoulder, or intercepted)."""
        key = f"{self.prefix}:totp-used:{staff.id}:{step}"
        return bool(await self.redis.set(key, b"1", ex=totp.REMEMBER_SECONDS, nx=True))

    def _totp_secret(self, staff: Staff) -> str | None:
        return self.vault.decrypt(staff.totp_secret) if staff.totp_secret else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            f"The password needs at least {MIN_PASSWORD} characters.",
            errors=[{"field": "password", "message": f"is shorter than {MIN_PASSWORD}"}],
        )
