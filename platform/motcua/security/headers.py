"""Security headers on every response, whatever produced it (a page, JSON, a problem, a
static file, a 404 before routing)."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: the pages load /static files only, so an injected
# <script> cannot run even if escaping ever failed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The API reference (/schema) is a third-party page that loads its script from a CDN and
# starts it inline; it shows nothing but the public schema.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' data: https://fonts.gstatic.com https://cdn.jsdelivr.net; "
    "img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # tracking links carry their secret in the query
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def _encoded(csp: str, *, tls: bool) -> list[tuple[bytes, bytes]]:
    headers = {**ALWAYS, "content-security-policy": csp}
    if tls:
        headers["strict-transport-security"] = HSTS
    return [(name.encode(), value.encode()) for name, value in headers.items()]


# Encoded once: every response carries them, so they are appended as they are.
HEADERS = {
    (docs, tls): _encoded(DOCS_CSP if docs else CSP, tls=tls)
    for docs in (False, True)
    for tls in (False, True)
}


class SecurityHeaders:
    """Adds the headers to every HTTP response.

    HSTS only when the request came over TLS: the public base URL is https, or the scheme
    is https — which uvicorn sets from X-Forwarded-Proto only for trusted proxies
    (``proxy_headers``, FORWARDED_ALLOW_IPS). Over plain HTTP a browser ignores it anyway,
    and a development server must not pin itself to https.
    """

    def __init__(self, app: ASGIApp, *, tls: bool, docs_path: str = "/schema") -> None:
        self.app = app
        self.tls = tls
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        docs = path == self.docs_path or path.startswith(self.docs_path + "/")
        over_tls = self.tls or scope.get("scheme") == "https"

        extra = HEADERS[docs, over_tls]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A new message: the response cache may hold (and replay) the original.
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
