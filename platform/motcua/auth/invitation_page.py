"""The page an invitation link opens: the invited staff member chooses a password.

The link carries its token after '#', which browsers never send, so it stays out of every
access log, proxy log and Referer; a static script (no inline script: the CSP forbids it)
puts it in the form, and without scripts the person pastes it. The form is protected by a
double-submit token (a SameSite=Strict cookie that must match a hidden field), and posts
to the same accept logic as the JSON route, leaving the same audit row.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from motcua.audit.service import actor_of, record
from motcua.auth.accounts import MIN_PASSWORD, StaffService, principal_of
from motcua.auth.guards import public
from motcua.auth.models import Staff
from motcua.errors import Invalid, NotFound
from motcua.security.limits import SIGN_IN_LIMITED
from motcua.settings import Settings
from motcua.tenancy.directory import TenantRef

INVITATION_PAGE = "/invitation"  # under the sign-in routes: /t/{slug}/api/v1/auth/invitation
FORM_COOKIE = "motcua_form"
FORM_SECONDS = 3600
Field = Annotated[str, msgspec.Meta(max_length=200)]
# What the page says, Vietnamese first, English second.
SAY = {
    "ask": None,
    "done": (
        "Đã đặt mật khẩu. Từ nay Anh/Chị đăng nhập bằng địa chỉ thư điện tử và mật khẩu này.",
        "Your password is set: sign in with your e-mail address and this password.",
    ),
    "unknown": (
        "Liên kết mời không đúng, đã được dùng hoặc đã hết hạn. Hãy đề nghị quản trị viên gửi "
        "liên kết mới.",
        "This invitation link is unknown, used or expired: ask your admin for a new one.",
    ),
    "short": (
        f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.",
        f"The password needs at least {MIN_PASSWORD} characters.",
    ),
    "differ": (
        "Hai lần nhập mật khẩu không giống nhau.",
        "The two passwords are not the same.",
    ),
    "expired": (
        "Trang đã hết hạn hoặc không được mở từ liên kết mời. Hãy gửi lại.",
        "This page expired or was not opened from the invitation link: submit it again.",
    ),
}


class InvitationForm(msgspec.Struct, kw_only=True):
    form_token: Field = ""
    token: Field = ""
    password: Field = ""
    repeat: Field = ""


async def accept_invitation(
    staff: StaffService, token: str, password: str, request: Request[Any, Any, Any]
) -> Staff:
    """Set the chosen password, with its row in the province's log (the request's
    transaction): whoever holds the link can set the password, so the admins see when."""
    accepted = await staff.accept(token, password)
    record(
        staff.session,
        action="auth.invitation_accept",
        actor=actor_of(principal_of(accepted)),
        target=f"staff:{accepted.id}",
        client=request.client.host if request.client else None,
    )
    return accepted


def _page(
    tenant: TenantRef,
    settings: Settings,
    said: str,
    *,
    status: int = 200,
    token: str = "",
    form_token: str | None = None,
) -> Template:
    form = said != "done" and said != "unknown"
    form_token = form_token or secrets.token_urlsafe(24)
    return Template(
        "invitation.html",
        context={
            "province": tenant.name,
            "message": SAY[said],
            "form": form,
            "token": token,
            "form_token": form_token,
            "min_password": MIN_PASSWORD,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
        cookies=[
            Cookie(
                key=FORM_COOKIE,
                value=form_token,
                max_age=FORM_SECONDS if form else 0,
                httponly=True,
                secure=settings.https,
                samesite="strict",
                path="/",
            )
        ],
    )


class InvitationPage:
    """Mixed into the sign-in controller (auth/signin_routes.py), whose routes it shares."""

    @get(
        INVITATION_PAGE,
        summary="The page of an invitation link",
        opt=public,
        include_in_schema=False,
        media_type="text/html",
    )
    async def invitation_page(
        self, tenant: NamedDependency[TenantRef], settings: NamedDependency[Settings]
    ) -> Template:
        return _page(tenant, settings, "ask")

    @post(
        INVITATION_PAGE,
        summary="Choose a password from the invitation page (form)",
        opt=public,
        include_in_schema=False,
        media_type="text/html",
        status_code=200,
        middleware=SIGN_IN_LIMITED,
    )
    async def invitation_form(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[InvitationForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        staff: NamedDependency[StaffService],
        tenant: NamedDependency[TenantRef],
        settings: NamedDependency[Settings],
    ) -> Template:
        expected = request.cookies.get(FORM_COOKIE, "")
        if not expected or not hmac.compare_digest(expected.encode(), data.form_token.encode()):
            return _page(tenant, settings, "expired", status=403, token=data.token)
        if data.password != data.repeat:
            return _page(
                tenant, settings, "differ", status=422, token=data.token, form_token=expected
            )
        try:
            await accept_invitation(staff, data.token, data.password, request)
        except NotFound:
            return _page(tenant, settings, "unknown", status=404)
        except Invalid:
            return _page(
                tenant, settings, "short", status=422, token=data.token, form_token=expected
            )
        return _page(tenant, settings, "done")
