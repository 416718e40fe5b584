"""Rate limits, through Litestar's middleware and the shared Redis store ("rate_limit"), so
every process counts together.

- Public routes (catalogue, webhooks, pages): per client address. Tracking keeps its own,
  stricter limit (dossiers/routes.py), so it is not counted twice here.
- Staff, integration and platform routes: per verified credential (API key or session), so
  one busy system cannot starve the others behind the same address, and a leaked key is
  slowed. A credential not verified yet (an invented key, a forged token) counts under its
  client address instead: inventing keys does not buy a fresh allowance each time.
- Sign-in routes: per client address, tighter than the public limit (`sign_in_limit`); and
  attempts on one account, from anywhere, counted by `PerAccount` (the rules: auth/accounts.py).
The client address is the socket's, or the X-Forwarded-For of a trusted proxy (uvicorn's
proxy_headers with FORWARDED_ALLOW_IPS): a caller cannot pick its own.

Litestar's own middleware reads a request history, then writes it back, under a lock held
by the process: two round trips, every request of the process queued behind them, and two
processes may still interleave. `WindowRateLimit` keeps its configuration, exclusions,
identifiers and headers but counts in one atomic step in Redis (`CountingStore.hit`): one
round trip, no process-wide lock, exact across processes. A window starts at a caller's
first request and lasts the limit's unit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Final

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    RateLimitConfig,
    RateLimitMiddleware,
    get_remote_address,
)
from litestar.stores.redis import RedisStore
from litestar.types import Message, Receive, Scope, Send
from redis.asyncio import Redis

from motcua.auth.service import KEY_PREFIX, recently_seen
from motcua.auth.tokens import signer_for
from motcua.settings import Settings
from motcua.state import services

SESSION_COOKIE = "motcua_session"  # the signed-in staff's session (auth/guards.py)
# Sign-in routes (password, invitation, the provider's login and callback), per client
# address, a minute: far below the public limit, since each may cost an argon2 hash or a
# provider round trip; above what an office behind one address needs at 8 in the morning.
SIGN_IN_PER_MINUTE: Final = 30
HAS_OWN_LIMIT = [r"/track/"]  # tracking pages and JSON: their own limit
# Probes and scrapes come from inside the cluster, and must answer with Redis down.
# Providers' webhooks come from a few addresses of theirs, many a second, and prove
# themselves by signature (a bad one is refused before anything is written).
UNLIMITED = [r"^/healthz$", r"^/readyz$", r"^/metrics", r"/hooks/"]


def _is_public(request: Request[Any, Any, Any]) -> bool:
    return request.route_handler.opt.get("access") == "public"


# Coroutines, not plain functions: Litestar runs a plain check in a worker thread.
async def _public_route(request: Request[Any, Any, Any]) -> bool:
    return _is_public(request)


def _address(request: Request[Any, Any, Any]) -> str:
    return f"address:{get_remote_address(request)}"


def _verified(request: Request[Any, Any, Any], secret: str) -> bool:
    """Whether the credential is known good without a query: a key the guards verified in
    the last seconds (auth/service.py), or a session token with the platform's signature."""
    if secret.startswith(KEY_PREFIX + "_"):
        return recently_seen.get(secret) is not None
    return signer_for(services(request).settings).verify(secret) is not None


def _credential(request: Request[Any, Any, Any]) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    secret = token.strip() if scheme.lower() == "bearer" else ""
    secret = secret or request.cookies.get(SESSION_COOKIE, "")
    if not secret or not _verified(request, secret):
        # No credential, or one not known good (an invented key costs a lookup): counted
        # per address, so a caller cannot buy a new allowance with each key it makes up.
        # A real key's first request in a while counts here too, once.
        return "unverified:" + _address(request)
    # A digest, not the key: the store must not hold credentials.
    return "credential:" + hashlib.sha256(secret.encode()).hexdigest()[:32]


class CountingStore(RedisStore):
    """The "rate_limit" store: Litestar's Redis store that can also count a hit atomically."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        super().__init__(redis=redis, namespace=namespace)
        self._hit = self._redis.register_script(
            """
            local count = redis.call('INCR', KEYS[1])
            if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
            return {count, redis.call('TTL', KEYS[1])}
            """
        )

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one request in the key's window: (requests so far, seconds left)."""
        count, ttl = await self._hit(keys=[self._make_key(key)], args=[window])
        return int(count), max(int(ttl), 0)


class WindowRateLimit(RateLimitMiddleware):
    """Litestar's rate limit, counted by CountingStore in one round trip (see above)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request: Request[Any, Any, Any] = app.request_class(scope)
        store = self.config.get_store_from_app(app)
        if isinstance(store, CountingStore) and await self.should_check_request(request):
            window = DURATION_VALUES[self.unit]
            count, left = await store.hit(self.cache_key_from_request(request), window)
            headers = self._headers(count, left or window)
            if count > self.max_requests:
                raise TooManyRequestsException(
                    headers=headers if self.config.set_rate_limit_headers else None
                )
            if self.config.set_rate_limit_headers:
                send = _with_headers(send, headers)
        await self.app(scope, receive, send)

    def _headers(self, count: int, left: int) -> dict[str, str]:
        return {
            self.config.rate_limit_policy_header_key: (
                f"{self.max_requests}; w={DURATION_VALUES[self.unit]}"
            ),
            self.config.rate_limit_limit_header_key: str(self.max_requests),
            self.config.rate_limit_remaining_header_key: str(max(self.max_requests - count, 0)),
            self.config.rate_limit_reset_header_key: str(left),
        }


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    encoded = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *encoded]
        await send(message)

    return send_with_headers


def per_address(
    name: str,
    requests_per_minute: int,
    counts: Callable[[Request[Any, Any, Any]], Awaitable[bool]] | None = None,
) -> RateLimitConfig:
    """A route's own limit per client address, counted apart from the app-wide ones; only
    the requests `counts` says, if given."""

    def identifier(request: Request[Any, Any, Any]) -> str:
        return f"{name}:{_address(request)}"

    return RateLimitConfig(
        rate_limit=("minute", requests_per_minute),
        store="rate_limit",
        identifier_for_request=identifier,
        check_throttle_handler=counts,
        middleware_class=WindowRateLimit,
    )


sign_in_limit = per_address("sign-in", SIGN_IN_PER_MINUTE)
# The middleware of every route that signs someone in (auth/signin_routes.py and
# auth/invitation_page.py): limited per client address, apart from the public limit.
SIGN_IN_LIMITED = [sign_in_limit.middleware]


class PerAccount:
    """Counts attempts on one account in the "rate_limit" store, whatever their address: the
    per-account limit on sign-in (auth/accounts.py decides which attempts count)."""

    def __init__(self, store: CountingStore, name: str) -> None:
        self.store = store
        self.name = name

    async def hit(self, account: str, window: int) -> tuple[int, int]:
        """(attempts on this account in its window so far, seconds left in the window)."""
        digest = hashlib.sha256(account.encode()).hexdigest()[:32]  # no e-mail in Redis
        return await self.store.hit(f"{self.name}:{digest}", window)


def attempts(request: Request[Any, Any, Any], name: str) -> PerAccount | None:
    """The app's per-account counter, or None when the store cannot count (never in the app)."""
    store = request.app.stores.get("rate_limit")
    return PerAccount(store, name) if isinstance(store, CountingStore) else None


def too_many(detail: str, retry_after: int) -> TooManyRequestsException:
    return TooManyRequestsException(detail=detail, headers={"Retry-After": str(retry_after)})


def rate_limits(settings: Settings) -> list[DefineMiddleware]:
    """The app-wide limits; a limit of 0 turns it off."""
    limits = []
    if settings.rate_limit_public_per_minute > 0:
        limits.append(
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_public_per_minute),
                store="rate_limit",
                exclude=HAS_OWN_LIMIT + UNLIMITED,
                identifier_for_request=_address,
                check_throttle_handler=_public_route,
                middleware_class=WindowRateLimit,
            ).middleware
        )
    if settings.rate_limit_caller_per_minute > 0:
        limits.append(
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_caller_per_minute),
                store="rate_limit",
                identifier_for_request=_credential,
                # Public routes say so in opt["access"] (auth.guards.public): passed by before
                # the request is even built, on the busiest routes.
                exclude_opt_key="access",
                middleware_class=WindowRateLimit,
            ).middleware
        )
    return limits
