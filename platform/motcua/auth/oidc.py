"""OpenID Connect sign-in: authorization code flow with PKCE, state and nonce, ID token
verified against the issuer's published keys.

The state is bound to the browser that started the sign-in (RFC 6749 §10.12): the login
sets a short-lived HttpOnly cookie holding a digest of the state, and the callback refuses
a state the browser does not hold, so nobody can finish their own sign-in in someone
else's browser (login CSRF).

The provider's discovery document and keys are cached per issuer and read again hourly; a
token under a key id the cache does not know, or with a bad signature under one it knows,
makes a fresh read of the keys, at most once a minute per issuer (a stream of forged tokens
must not become a stream of requests to the provider).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from arq.connections import ArqRedis
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import KeySet

from motcua.errors import BadRequest, Invalid, Unauthorized, Unavailable

STATE_SECONDS = 600  # time a person has at the provider's sign-in page
DISCOVERY_SECONDS = 3600  # the discovery document and the keys are read again this often
# A kid we do not know may be a rotated key, a bad signature under a kid we know a key
# replaced under that kid: the keys are read again, at most this often per issuer.
REFETCH_AFTER = 60.0
BROWSER_COOKIE = "motcua_oidc"  # the digest of the state, in the browser that started
LEEWAY = 60  # clock difference tolerated on exp and iat
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
ENV_REFERENCE = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """One provider as the platform uses it (the secret already read from the environment)."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid email profile"
    role_claim: str | None = None
    role_map: dict[str, str] = field(default_factory=dict)
    agency_claim: str | None = None


def resolve_secret(reference: str, environ: dict[str, str] | None = None) -> str:
    """The value behind env:VAR; a missing variable is the province's configuration error."""
    match = ENV_REFERENCE.fullmatch(reference)
    if match is None:
        raise Invalid("The client secret must be written env:VARIABLE.")
    value = (os.environ if environ is None else environ).get(match.group(1))
    if not value:
        raise Unavailable(f"Sign-in is not configured: {match.group(1)} is not set.")
    return value


def issuer_problem(issuer: str) -> str | None:
    """Why an issuer address is refused: only https, except on the machine itself."""
    parts = urlsplit(issuer)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return None
    return "must be an https:// address"


@dataclass(frozen=True, slots=True)
class Pending:
    """What the callback must find again: kept in Redis under the state, used once."""

    nonce: str
    verifier: str
    redirect_uri: str
    return_to: str
    audience: str  # the tenant id, or "platform": a state is valid for one of them only


# Shared by every client in the process: providers' documents and keys change rarely.
_METADATA: dict[str, tuple[dict[str, Any], float]] = {}
_KEYS: dict[str, KeySet] = {}
_FETCHED: dict[str, float] = {}  # when each issuer's keys were last read


class OidcClient:
    def __init__(self, http: httpx.AsyncClient | None = None) -> None:
        self._http = http
        self._metadata = _METADATA
        self._keys = _KEYS

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def metadata(self, issuer: str) -> dict[str, Any]:
        cached = self._metadata.get(issuer)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await self._get_json(url)
        if document.get("issuer") != issuer:
            raise Unavailable("The identity provider's discovery document names another issuer.")
        self._metadata[issuer] = (document, time.monotonic() + DISCOVERY_SECONDS)
        return document

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._client().get(url)
            response.raise_for_status()
            found: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unavailable(f"The identity provider cannot be reached ({exc}).") from None
        return found

    async def _key_set(self, issuer: str, kid: str | None) -> KeySet:
        keys = self._keys.get(issuer)
        fetched = _FETCHED.get(issuer)
        if keys is None or fetched is None or time.monotonic() - fetched > DISCOVERY_SECONDS:
            return await self._fetch_keys(issuer)
        unknown = kid is not None and not any(k.kid == kid for k in keys.keys)
        if unknown and may_refetch(issuer):
            return await self._fetch_keys(issuer)
        return keys  # an unknown kid within the minute: the token fails to verify

    async def _fetch_keys(self, issuer: str) -> KeySet:
        document = await self.metadata(issuer)
        published: Any = await self._get_json(document["jwks_uri"])
        keys = KeySet.import_key_set(published)
        self._keys[issuer] = keys
        _FETCHED[issuer] = time.monotonic()
        return keys

    # -- the flow ------------------------------------------------------------------------

    async def begin(
        self,
        config: ProviderConfig,
        redis: ArqRedis,
        prefix: str,
        *,
        redirect_uri: str,
        return_to: str,
        audience: str,
    ) -> tuple[str, str]:
        """The provider's authorization address to send the browser to, and the value of
        the BROWSER_COOKIE to set in that browser."""
        document = await self.metadata(config.issuer)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        pending = Pending(nonce, verifier, redirect_uri, return_to, audience)
        await redis.set(
            f"{prefix}:oidc-state:{state}",
            json.dumps(_as_dict(pending)),
            ex=STATE_SECONDS,
        )
        endpoint = str(document["authorization_endpoint"])
        url = (endpoint + ("&" if "?" in endpoint else "?")) + urlencode(
            [
                ("response_type", "code"),
                ("client_id", config.client_id),
                ("redirect_uri", redirect_uri),
                ("scope", config.scopes),
                ("state", state),
                ("nonce", nonce),
                ("code_challenge", create_s256_code_challenge(verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        return url, browser_binding(state)

    async def complete(
        self,
        config: ProviderConfig,
        redis: ArqRedis,
        prefix: str,
        *,
        code: str,
        state: str,
        browser: str | None,
        audience: str,
    ) -> tuple[dict[str, Any], str]:
        """The verified ID token's claims and where to send the person afterwards. `browser`
        is the BROWSER_COOKIE the callback came with: checked before the state is used, so
        a forged callback cannot spend the real one."""
        bound = browser_binding(state).encode()
        if not browser or not hmac.compare_digest(browser.encode(), bound):
            raise BadRequest(
                "This sign-in was not started in this browser, or took too long: start again."
            )
        raw = await redis.getdel(f"{prefix}:oidc-state:{state}")
        if raw is None:
            raise BadRequest("This sign-in link is unknown, expired or already used.")
        pending = Pending(**json.loads(raw))
        if pending.audience != audience:
            raise BadRequest("This sign-in was started for another province.")
        document = await self.metadata(config.issuer)
        try:
            response = await self._client().post(
                document["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": pending.redirect_uri,
                    "code_verifier": pending.verifier,
                },
                auth=(config.client_id, config.client_secret),
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"The identity provider cannot be reached ({exc}).") from None
        if response.status_code != 200:
            raise Unauthorized("The identity provider refused the sign-in code.")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise Unauthorized("The identity provider answered without an ID token.")
        return await self.verify_id_token(config, id_token, pending.nonce), pending.return_to

    async def verify_id_token(
        self, config: ProviderConfig, id_token: str, nonce: str
    ) -> dict[str, Any]:
        """The claims of an ID token signed by the issuer, for this client, fresh, with our
        nonce; anything else is a 401."""
        try:
            header = jws.extract_compact(id_token.encode()).protected
            keys = await self._key_set(config.issuer, header.get("kid"))
            try:
                token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            except BadSignatureError:
                if not may_refetch(config.issuer):
                    raise
                keys = await self._fetch_keys(config.issuer)
                token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY,
                iss={"essential": True, "value": config.issuer},
                aud={"essential": True, "value": config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError, KeyError) as exc:
            raise Unauthorized(f"The ID token is not valid ({type(exc).__name__}).") from None
        claims = dict(token.claims)
        # OpenID Connect Core 3.1.3.7: a token for several audiences names the party it was
        # issued to (azp); it must be us, whenever it is there.
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != config.client_id:
            raise Unauthorized("The ID token was issued to another client (azp).")
        return claims


def may_refetch(issuer: str) -> bool:
    """Whether the issuer's keys may be read again now: at most once a REFETCH_AFTER."""
    return time.monotonic() - _FETCHED.get(issuer, -REFETCH_AFTER) >= REFETCH_AFTER


def browser_binding(state: str) -> str:
    """What the browser that started a sign-in keeps: a digest of the state, not the state."""
    return hashlib.sha256(b"motcua-oidc-browser:" + state.encode()).hexdigest()


def _as_dict(pending: Pending) -> dict[str, str]:
    return {name: getattr(pending, name) for name in Pending.__slots__}
