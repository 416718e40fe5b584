"""Signing in over HTTP: a province's provider or a staff password, refresh, sign-out;
staff records and the province's provider settings for its admins; operators' sign-in on
the platform host."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from arq.connections import ArqRedis
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.audit.service import Actor, actor_of, record, record_in_province
from motcua.audit.trail import add_detail, audited, set_target
from motcua.auth.accounts import (
    INVITATION_LIFETIME,
    WRONG,
    AccountLocked,
    Failure,
    StaffService,
)
from motcua.auth.accounts import principal_of as staff_principal
from motcua.auth.guards import (
    CSRF_COOKIE,
    REFRESH_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    open_province,
    operator_only,
    public,
    requires,
)
from motcua.auth.invitation_page import INVITATION_PAGE, InvitationPage, accept_invitation
from motcua.auth.models import Role, Staff
from motcua.auth.oidc import BROWSER_COOKIE, STATE_SECONDS, OidcClient
from motcua.auth.providers import ProviderService, operator_config, operator_for
from motcua.auth.service import Principal
from motcua.auth.sessions import SESSION_LIFETIME, SessionRevoked, SessionService, Tokens
from motcua.auth.signin_schemas import (
    AcceptIn,
    InvitationOut,
    MeOut,
    PasswordIn,
    ProviderIn,
    ProviderOut,
    RefreshIn,
    RoleIn,
    StaffIn,
    StaffList,
    StaffOut,
    TokensOut,
    TotpIn,
    TotpOut,
)
from motcua.auth.tokens import ACCESS_SECONDS, signer_for
from motcua.db import Database
from motcua.errors import BadRequest, Forbidden, NotFound, Unauthorized
from motcua.notices.vault import Vault
from motcua.security.limits import SIGN_IN_LIMITED, attempts, too_many
from motcua.settings import Settings
from motcua.state import services
from motcua.tenancy.directory import TenantRef

any_staff = requires(Role.ADMIN, Role.OFFICER, Role.VIEWER)
admin_only = requires(Role.ADMIN)
ReturnTo = Annotated[str, QueryParameter(max_length=500)]
AnyRequest = Request[Any, Any, Any]
TOTP_CONFIRMS_PER_MINUTE = 10  # per staff member: a six-digit code is not guessed this way


def _client(request: AnyRequest) -> str | None:
    return request.client.host if request.client else None


def _bind_browser(response: Response[Any], binding: str, callback: str, settings: Settings) -> None:
    """The cookie that ties a sign-in's state to this browser, sent back to the callback only."""
    response.set_cookie(
        Cookie(
            key=BROWSER_COOKIE,
            value=binding,
            max_age=STATE_SECONDS,
            httponly=True,
            secure=settings.https,
            samesite="lax",  # sent on the provider's redirect back: a top-level navigation
            path=urlsplit(callback).path,
        )
    )


def _unbind_browser(response: Response[Any], callback: str) -> None:
    response.delete_cookie(BROWSER_COOKIE, path=urlsplit(callback).path)


def _safe_return(path: str, default: str) -> str:
    # Only a path on this site: never an open redirect to another one.
    return path if path.startswith("/") and not path.startswith("//") else default


def _with_cookies(response: Response[Any], tokens: Tokens, settings: Settings) -> str:
    """Set the session, refresh and CSRF cookies; answer the CSRF token."""
    secure = settings.https
    csrf = secrets.token_urlsafe(24)
    lifetime = int(SESSION_LIFETIME.total_seconds())
    for name, value, max_age, httponly in (
        (SESSION_COOKIE, tokens.access_token, ACCESS_SECONDS, True),
        (REFRESH_COOKIE, tokens.refresh_token, lifetime, True),
        (CSRF_COOKIE, csrf, lifetime, False),  # read by the page's script, echoed in a header
    ):
        response.set_cookie(
            Cookie(
                key=name,
                value=value,
                max_age=max_age,
                httponly=httponly,
                secure=secure,
                samesite="lax",
                path="/",
            )
        )
    return csrf


def _tokens_response(tokens: Tokens, settings: Settings) -> Response[TokensOut]:
    response: Response[TokensOut] = Response(content=None, status_code=200)  # type: ignore[arg-type]
    csrf = _with_cookies(response, tokens, settings)
    response.content = TokensOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        csrf_token=csrf,
    )
    return response


def _clear_cookies(response: Response[Any]) -> None:
    for name in (SESSION_COOKIE, REFRESH_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/")


async def _start(db: Database, request: AnyRequest, principal: Principal, method: str) -> Tokens:
    found = services(request)
    async with db.platform_session() as session:
        sessions = SessionService(session, signer_for(found.settings), found.queue, found.settings)
        tokens = await sessions.start(principal, "oidc" if method == "oidc" else "password")
        await session.commit()
    return tokens


async def _refresh(
    db: Database, request: AnyRequest, data: RefreshIn | None, tenant_id: uuid.UUID | None
) -> Tokens:
    token = data.refresh_token if data and data.refresh_token else None
    if token is None:
        token = request.cookies.get(REFRESH_COOKIE)
        if token:  # another site can make the browser send the cookie: it must echo CSRF
            check_csrf(request)
    if not token:
        raise Unauthorized("No refresh token: sign in.")
    found = services(request)
    async with db.platform_session() as session:
        sessions = SessionService(session, signer_for(found.settings), found.queue, found.settings)
        try:
            tokens = await sessions.refresh(token, tenant_id)
        except SessionRevoked as revoked:
            signed_in = revoked.signed_in
            # A staff member's session: in the province's log; an operator's: the platform's.
            await record_in_province(
                session,
                signed_in.tenant_id,
                action=revoked.action,
                actor=Actor(signed_in.subject, signed_in.display, signed_in.agency_code),
                target=f"session:{signed_in.id}",
                client=_client(request),
            )
            await session.commit()
            raise
        await session.commit()
    return tokens


async def _sign_out(db: Database, request: AnyRequest) -> None:
    principal: Principal = request.state.principal
    if principal.session_id is None:
        raise Forbidden("An API key has no session to sign out of; revoke the key instead.")
    set_target(f"session:{principal.session_id}")
    found = services(request)
    async with db.platform_session() as session:
        sessions = SessionService(session, signer_for(found.settings), found.queue, found.settings)
        row = await sessions.by_id(principal.session_id)
        if row is not None:
            await sessions.revoke(row, "signed out")
        await session.commit()  # with the auth.sign_out row (the route is audited)


def _actor(principal: Principal) -> Actor:
    return Actor(principal.subject, principal.display, principal.agency_code)


def _me(principal: Principal) -> MeOut:
    return MeOut(
        kind=principal.kind,
        subject=principal.subject,
        display=principal.display,
        role=principal.role.value,
        agency_code=principal.agency_code,
        tenant_id=principal.tenant_id,
    )


def _callback_url(settings: Settings, tenant: TenantRef | None) -> str:
    prefix = f"/t/{tenant.slug}" if tenant else ""
    return f"{settings.base_url}{prefix}/api/v1/auth/oidc/callback"


def _staff_out(staff: Staff) -> StaffOut:
    return StaffOut(
        id=staff.id,
        email=staff.email,
        name=staff.name,
        role=staff.role.value,
        agency_code=staff.agency_code,
        active=staff.active,
        totp_enabled=staff.totp_enabled,
        signs_in_with_provider=staff.oidc_subject is not None,
        locked_until=staff.locked_until,
        last_sign_in_at=staff.last_sign_in_at,
    )


def provide_staff(
    session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    queue: NamedDependency[ArqRedis],
) -> StaffService:
    return StaffService(session, Vault.for_settings(settings), queue, settings.queue_name)


def provide_providers(session: NamedDependency[AsyncSession]) -> ProviderService:
    return ProviderService(session)


class SignIn(InvitationPage, Controller):
    """A province's staff sign in: its identity provider, or a staff password (and the page
    of an invitation link, from InvitationPage). Closed while the province is suspended."""

    path = "/api/v1/auth"
    tags = ["sign-in"]
    guards = [open_province]

    @get(
        "/oidc/login",
        summary="Sign in with the province's identity provider",
        opt=public,
        middleware=SIGN_IN_LIMITED,
    )
    async def oidc_login(
        self,
        request: AnyRequest,
        tenant: NamedDependency[TenantRef],
        providers: NamedDependency[ProviderService],
        settings: NamedDependency[Settings],
        return_to: ReturnTo = "",
    ) -> Redirect:
        callback = _callback_url(settings, tenant)
        if settings.public_base_url and request.url.netloc != urlsplit(callback).netloc:
            # The provider sends the browser back to the platform's host: start there, so
            # the browser's cookie is where the callback can read it.
            here = urlsplit(str(request.url))
            login = f"{settings.base_url}/t/{tenant.slug}{self.path}/oidc/login"
            return Redirect(f"{login}?{here.query}" if here.query else login, status_code=302)
        config = await providers.config()
        async with httpx.AsyncClient(timeout=10.0) as http:
            url, binding = await OidcClient(http).begin(
                config,
                services(request).queue,
                settings.queue_name,
                redirect_uri=callback,
                return_to=_safe_return(return_to, f"/t/{tenant.slug}/api/v1/auth/me"),
                audience=str(tenant.id),
            )
        redirect = Redirect(url, status_code=302)
        _bind_browser(redirect, binding, callback, settings)
        return redirect

    @get(
        "/oidc/callback",
        summary="Where the identity provider sends the browser back",
        opt=public,
        middleware=SIGN_IN_LIMITED,
    )
    async def oidc_callback(
        self,
        request: AnyRequest,
        tenant: NamedDependency[TenantRef],
        providers: NamedDependency[ProviderService],
        session: NamedDependency[AsyncSession],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        code: Annotated[str, QueryParameter(max_length=2000)],
        oauth_state: Annotated[str, QueryParameter(name="state", max_length=200)],
    ) -> Redirect:
        config = await providers.config()
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                claims, return_to = await OidcClient(http).complete(
                    config,
                    services(request).queue,
                    settings.queue_name,
                    code=code,
                    state=oauth_state,
                    browser=request.cookies.get(BROWSER_COOKIE),
                    audience=str(tenant.id),
                )
            principal = await providers.staff_for(config, claims)
        except (BadRequest, Unauthorized, Forbidden) as exc:
            await session.rollback()
            record(
                session,
                action="auth.sign_in_failed",
                actor=Actor("anonymous"),
                target="oidc",
                client=_client(request),
                detail={"reason": exc.detail},
            )
            await session.commit()
            raise
        record(
            session,
            action="auth.sign_in",
            actor=_actor(principal),
            target="oidc",
            client=_client(request),
        )
        tokens = await _start(db, request, principal, "oidc")
        redirect = Redirect(return_to, status_code=303)
        _with_cookies(redirect, tokens, settings)
        _unbind_browser(redirect, _callback_url(settings, tenant))
        return redirect

    @post(
        "/password",
        summary="Sign in with a staff password",
        opt=public,
        status_code=200,
        middleware=SIGN_IN_LIMITED,
    )
    async def password(
        self,
        request: AnyRequest,
        data: Annotated[PasswordIn, Body()],
        staff: NamedDependency[StaffService],
        session: NamedDependency[AsyncSession],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[TokensOut]:
        checked = await staff.check_password(
            data.email,
            data.password,
            data.code,
            address=_client(request) or "unknown",
            attempts=attempts(request, "sign-in-account"),
        )
        if isinstance(checked, Failure):
            who = checked.staff
            actor = actor_of(staff_principal(who)) if who else Actor("anonymous")
            record(
                session,
                action="auth.sign_in_failed",
                actor=actor,
                target="password",
                client=_client(request),
                detail={"reason": checked.reason},
            )
            if checked.locked_now:
                record(
                    session,
                    action="auth.locked",
                    actor=actor,
                    target="password",
                    client=_client(request),
                    detail={"scope": checked.locked_now},
                )
            await session.commit()  # the failure counts even though the answer is an error
            if checked.retry_after is not None:
                raise too_many(
                    "Too many sign-in attempts on this account: wait a minute.",
                    checked.retry_after,
                )
            if checked.locked:
                raise AccountLocked("Too many failed sign-ins: the account is locked for a while.")
            if checked.reason == "one-time code missing":
                raise Unauthorized("This account needs its one-time code.", needs_code=True)
            raise Unauthorized(WRONG)
        principal = staff_principal(checked)
        record(
            session,
            action="auth.sign_in",
            actor=_actor(principal),
            target="password",
            client=_client(request),
        )
        return _tokens_response(await _start(db, request, principal, "password"), settings)

    @post(
        "/refresh",
        summary="New tokens for a refresh token (used once)",
        opt=public,
        status_code=200,
    )
    async def refresh(
        self,
        request: AnyRequest,
        tenant: NamedDependency[TenantRef],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: Annotated[RefreshIn | None, Body()] = None,
    ) -> Response[TokensOut]:
        return _tokens_response(await _refresh(db, request, data, tenant.id), settings)

    @post(
        "/sign-out",
        summary="End this session",
        guards=[any_staff],
        status_code=200,
        opt=audited("auth.sign_out"),
    )
    async def sign_out(self, request: AnyRequest, db: NamedDependency[Database]) -> Response[None]:
        await _sign_out(db, request)
        response: Response[None] = Response(None, status_code=200)
        _clear_cookies(response)
        return response

    @get("/me", summary="Who is signed in", guards=[requires(*Role)])
    async def me(self, request: AnyRequest) -> MeOut:
        return _me(request.state.principal)

    @post(
        "/invitations/accept",
        summary="Choose a password through an invitation link",
        opt=public,
        status_code=200,
        middleware=SIGN_IN_LIMITED,
    )
    async def accept(
        self,
        request: AnyRequest,
        data: Annotated[AcceptIn, Body()],
        staff: NamedDependency[StaffService],
    ) -> StaffOut:
        return _staff_out(await accept_invitation(staff, data.token, data.password, request))

    @post(
        "/totp",
        summary="Start one-time codes for my account",
        guards=[any_staff],
        status_code=200,
        opt=audited("auth.totp"),
    )
    async def totp_begin(
        self,
        request: AnyRequest,
        tenant: NamedDependency[TenantRef],
        staff: NamedDependency[StaffService],
    ) -> TotpOut:
        staff_id = _own_staff_id(request)
        set_target(f"staff:{staff_id}")
        add_detail(step="enrol")
        secret, uri = await staff.begin_totp(staff_id, f"Một Cửa {tenant.name}")
        return TotpOut(secret=secret, uri=uri)

    @post(
        "/totp/confirm",
        summary="Require one-time codes from now on",
        guards=[any_staff],
        status_code=200,
        opt=audited("auth.totp"),
    )
    async def totp_confirm(
        self,
        request: AnyRequest,
        data: Annotated[TotpIn, Body()],
        staff: NamedDependency[StaffService],
    ) -> StaffOut:
        staff_id = _own_staff_id(request)
        set_target(f"staff:{staff_id}")
        add_detail(step="confirm")
        counter = attempts(request, "totp-confirm")
        if counter is not None:
            count, left = await counter.hit(str(staff_id), 60)
            if count > TOTP_CONFIRMS_PER_MINUTE:
                raise too_many("Too many one-time codes tried: wait a minute.", left or 60)
        return _staff_out(await staff.confirm_totp(staff_id, data.code))


def _own_staff_id(request: AnyRequest) -> uuid.UUID:
    principal: Principal = request.state.principal
    if principal.kind != "staff":
        raise Forbidden("Only a signed-in staff member has one-time codes.")
    return uuid.UUID(principal.subject.removeprefix("staff:"))


class StaffAdmin(Controller):
    """A province's admins keep its staff records and its identity provider's settings."""

    path = "/api/v1"
    tags = ["staff"]
    guards = [admin_only]

    @get("/staff", summary="The province's staff")
    async def list_staff(self, staff: NamedDependency[StaffService]) -> StaffList:
        return StaffList(items=[_staff_out(s) for s in await staff.list()])

    @post(
        "/staff",
        summary="Add a staff member (then invite them, or let them use the provider)",
        opt=audited("staff.add", detail=("role", "agency_code")),
    )
    async def add_staff(
        self, data: Annotated[StaffIn, Body()], staff: NamedDependency[StaffService]
    ) -> StaffOut:
        created = await staff.create(
            email=data.email, name=data.name, role=Role(data.role), agency_code=data.agency_code
        )
        set_target(f"staff:{created.id}")
        return _staff_out(created)

    @post(
        "/staff/{staff_id:uuid}/invitation",
        summary="A single-use link to choose a password",
        status_code=200,
        opt=audited("staff.invite", "staff:{staff_id}"),
    )
    async def invite(
        self,
        staff_id: FromPath[uuid.UUID],
        staff: NamedDependency[StaffService],
        tenant: NamedDependency[TenantRef],
        settings: NamedDependency[Settings],
    ) -> InvitationOut:
        token = await staff.invite(staff_id)
        # The token after '#': browsers never send it, so it stays out of every log.
        link = f"{settings.base_url}/t/{tenant.slug}{SignIn.path}{INVITATION_PAGE}#{token}"
        return InvitationOut(link=link, expires_in_days=INVITATION_LIFETIME.days)

    @delete(
        "/staff/{staff_id:uuid}",
        summary="Deactivate a staff member (their sessions end at once)",
        status_code=200,
        opt=audited("staff.deactivate", "staff:{staff_id}"),
    )
    async def deactivate(
        self,
        staff_id: FromPath[uuid.UUID],
        staff: NamedDependency[StaffService],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        queue: NamedDependency[ArqRedis],
    ) -> StaffOut:
        # Sessions are ended in the deactivation's own transaction.
        sessions = SessionService(session, signer_for(settings), queue, settings)
        return _staff_out(await staff.deactivate(staff_id, sessions))

    @post(
        "/staff/{staff_id:uuid}/reactivate",
        summary="Let a deactivated staff member sign in again",
        status_code=200,
        opt=audited("staff.reactivate", "staff:{staff_id}"),
    )
    async def reactivate(
        self, staff_id: FromPath[uuid.UUID], staff: NamedDependency[StaffService]
    ) -> StaffOut:
        return _staff_out(await staff.reactivate(staff_id))

    @post(
        "/staff/{staff_id:uuid}/unlock",
        summary="End a staff member's lockouts (the account's and every address's)",
        status_code=200,
        opt=audited("staff.unlock", "staff:{staff_id}"),
    )
    async def unlock(
        self, staff_id: FromPath[uuid.UUID], staff: NamedDependency[StaffService]
    ) -> StaffOut:
        return _staff_out(await staff.unlock(staff_id))

    @put(
        "/staff/{staff_id:uuid}/role",
        summary="Change a staff member's role and agency (open sessions: at their next refresh)",
        opt=audited("staff.role", "staff:{staff_id}", detail=("role", "agency_code")),
    )
    async def change_role(
        self,
        staff_id: FromPath[uuid.UUID],
        data: Annotated[RoleIn, Body()],
        staff: NamedDependency[StaffService],
    ) -> StaffOut:
        return _staff_out(await staff.change_role(staff_id, Role(data.role), data.agency_code))

    @get("/auth/provider", summary="The province's identity provider (secret as env:VAR)")
    async def get_provider(
        self,
        providers: NamedDependency[ProviderService],
        tenant: NamedDependency[TenantRef],
        settings: NamedDependency[Settings],
    ) -> ProviderOut:
        row = await providers.get()
        if row is None:
            raise NotFound("This province has no identity provider.")
        return _provider_out(row, _callback_url(settings, tenant))

    @put(
        "/auth/provider",
        summary="Set the province's identity provider",
        opt=audited(
            "auth.provider.put",
            "provider",
            detail=("issuer", "client_id", "role_claim", "agency_claim"),
        ),
    )
    async def put_provider(
        self,
        data: Annotated[ProviderIn, Body()],
        providers: NamedDependency[ProviderService],
        tenant: NamedDependency[TenantRef],
        settings: NamedDependency[Settings],
    ) -> ProviderOut:
        row = await providers.put(
            issuer=data.issuer,
            client_id=data.client_id,
            client_secret=data.client_secret,
            scopes=data.scopes,
            role_claim=data.role_claim,
            role_map=data.role_map,
            agency_claim=data.agency_claim,
        )
        return _provider_out(row, _callback_url(settings, tenant))

    @delete(
        "/auth/provider",
        summary="Stop signing in through a provider",
        status_code=204,
        opt=audited("auth.provider.delete", "provider"),
    )
    async def delete_provider(self, providers: NamedDependency[ProviderService]) -> None:
        await providers.remove()


def _provider_out(row: Any, redirect_uri: str) -> ProviderOut:
    return ProviderOut(
        issuer=row.issuer,
        client_id=row.client_id,
        client_secret=row.client_secret,  # a reference, never a value
        scopes=row.scopes,
        role_claim=row.role_claim,
        role_map=dict(row.role_map),
        agency_claim=row.agency_claim,
        redirect_uri=redirect_uri,
    )


class OperatorSignIn(Controller):
    """Platform operators sign in at the platform's own identity provider."""

    path = "/api/v1/auth"
    tags = ["sign-in"]

    @get(
        "/oidc/login",
        summary="Operators: sign in with the platform's provider",
        opt=public,
        middleware=SIGN_IN_LIMITED,
    )
    async def oidc_login(
        self, request: AnyRequest, settings: NamedDependency[Settings], return_to: ReturnTo = ""
    ) -> Redirect:
        callback = _callback_url(settings, None)
        async with httpx.AsyncClient(timeout=10.0) as http:
            url, binding = await OidcClient(http).begin(
                operator_config(settings),
                services(request).queue,
                settings.queue_name,
                redirect_uri=callback,
                return_to=_safe_return(return_to, "/api/v1/auth/me"),
                audience="platform",
            )
        redirect = Redirect(url, status_code=302)
        _bind_browser(redirect, binding, callback, settings)
        return redirect

    @get(
        "/oidc/callback",
        summary="Operators: back from the platform's provider",
        opt=public,
        middleware=SIGN_IN_LIMITED,
    )
    async def oidc_callback(
        self,
        request: AnyRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        code: Annotated[str, QueryParameter(max_length=2000)],
        oauth_state: Annotated[str, QueryParameter(name="state", max_length=200)],
    ) -> Redirect:
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                claims, return_to = await OidcClient(http).complete(
                    operator_config(settings),
                    services(request).queue,
                    settings.queue_name,
                    code=code,
                    state=oauth_state,
                    browser=request.cookies.get(BROWSER_COOKIE),
                    audience="platform",
                )
            principal = operator_for(settings, claims)
        except (BadRequest, Unauthorized, Forbidden) as exc:
            async with db.platform_session() as session:
                record(
                    session,
                    action="auth.sign_in_failed",
                    actor=Actor("anonymous"),
                    target="oidc",
                    client=_client(request),
                    detail={"reason": exc.detail},
                )
                await session.commit()
            raise
        async with db.platform_session() as session:
            record(
                session,
                action="auth.sign_in",
                actor=_actor(principal),
                target="oidc",
                client=_client(request),
            )
            await session.commit()
        tokens = await _start(db, request, principal, "oidc")
        redirect = Redirect(return_to, status_code=303)
        _with_cookies(redirect, tokens, settings)
        _unbind_browser(redirect, _callback_url(settings, None))
        return redirect

    @post(
        "/refresh", summary="Operators: new tokens for a refresh token", opt=public, status_code=200
    )
    async def refresh(
        self,
        request: AnyRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: Annotated[RefreshIn | None, Body()] = None,
    ) -> Response[TokensOut]:
        return _tokens_response(await _refresh(db, request, data, None), settings)

    @post(
        "/sign-out",
        summary="Operators: end this session",
        guards=[operator_only],
        status_code=200,
        opt=audited("auth.sign_out"),
    )
    async def sign_out(self, request: AnyRequest, db: NamedDependency[Database]) -> Response[None]:
        await _sign_out(db, request)
        response: Response[None] = Response(None, status_code=200)
        _clear_cookies(response)
        return response

    @get("/me", summary="Operators: who is signed in", guards=[operator_only])
    async def me(self, request: AnyRequest) -> MeOut:
        return _me(request.state.principal)
