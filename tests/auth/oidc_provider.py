"""A real OpenID provider on loopback for the sign-in tests, built on authlib's server side.

Authorization code flow with PKCE (S256) and nonce; a discovery document and JWKS; the
authorization endpoint signs in `user` at once (a test has no person to type a password).
Knobs make the next ID token forged (signed with a key the JWKS does not publish), for
another audience, for a second audience too (with or without `azp`), or expired; `rotate()`
publishes a new signing key.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from litestar import Litestar, Request, Response, get, post


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Registered on first use by the test; the real check is that the token request
        # repeats the same address, which authlib enforces.
        if redirect_uri not in self.redirect_uris:
            self.redirect_uris.append(redirect_uri)
        return True

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class _Request(OAuth2Request):
    def __init__(self, method: str, uri: str, headers: dict[str, str], data: dict[str, str]):
        super().__init__(method, uri, headers=headers)
        self._args = data
        self.payload = BasicOAuth2Payload(data)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._args


class Provider(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, standin: OidcProvider) -> None:
        super().__init__(scopes_supported=["openid", "email", "profile", "roles"])
        self.standin = standin
        self.register_token_generator("default", BearerTokenGenerator(_token))

    def query_client(self, client_id: str) -> Client | None:
        return self.standin.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        pass

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def handle_response(self, status: int, body: Any, headers: Any) -> Response[Any]:
        return Response(body, status_code=status, headers=dict(headers))

    def create_oauth2_request(self, request: _Request) -> _Request:
        return request


def _token(*_: Any, **__: Any) -> str:
    return secrets.token_urlsafe(24)


def _grants(standin: OidcProvider) -> tuple[type, type]:
    class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, request: Any) -> None:
            data = request.payload.data
            standin.codes[code] = Code(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=data.get("redirect_uri", ""),
                scope=data.get("scope", ""),
                user=dict(standin.user),
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = standin.codes.get(code)
            return found if found and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            standin.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
            return authorization_code.user

    class IdToken(OpenIDCode):  # type: ignore[misc]
        def resolve_client_private_key(self, client: Client) -> RSAKey:
            forged, standin.forge_next = standin.forge_next, False
            return standin.forger if forged else standin.key

        def get_client_algorithm(self, client: Client) -> str:
            return "RS256"

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": "RS256", "kid": standin.key.kid or ""}

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            now = int(time.time())
            audiences = [standin.wrong_audience or client.client_id]
            if standin.extra_audience:
                audiences.append(standin.extra_audience)
            claims: dict[str, Any] = {
                "iss": standin.issuer,
                "aud": audiences,
                "iat": now,
                "exp": now + 300,
            }
            if standin.azp is not None:
                claims["azp"] = standin.azp
            if standin.expire_next:
                claims.update(iat=now - 7200, exp=now - 3600)
            standin.expire_next = False
            standin.wrong_audience = standin.extra_audience = standin.azp = None
            return claims

        def exists_nonce(self, nonce: str, request: Any) -> bool:
            return False

        def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
            return UserInfo(user)

    return CodeGrant, IdToken


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class OidcProvider:
    def __init__(self, client_id: str = "motcua", client_secret: str = "s3cret-of-the-test"):  # noqa: S107
        self.clients = {client_id: Client(client_id, client_secret)}
        self.client_id, self.client_secret = client_id, client_secret
        self.codes: dict[str, Code] = {}
        # A provider of a later test may get this one's port, hence its issuer: the platform
        # must not find its own cached key under the same kid.
        self._kids = f"{secrets.token_hex(4)}-"
        self.generation = 1
        kid = f"{self._kids}{self.generation}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)
        # Another key under the same kid: a forged token the platform's cache cannot tell.
        self.forger = RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)
        self.user: dict[str, Any] = {"sub": "u-1", "name": "Lê Văn An", "email": "an@tinh.vn"}
        self.forge_next = self.expire_next = False
        self.wrong_audience: str | None = None
        self.extra_audience: str | None = None
        self.azp: str | None = None
        self.jwks_fetches = 0
        self.issuer = ""
        self.server = Provider(self)
        grant, id_token = _grants(self)
        self.server.register_grant(
            grant, [CodeChallenge(required=True), id_token(require_nonce=True)]
        )
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    def rotate(self) -> None:
        """A new signing key, published under a new kid; the old one is dropped."""
        self.generation += 1
        kid = f"{self._kids}{self.generation}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)

    def _app(self) -> Litestar:
        standin = self

        @get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            base = standin.issuer
            return {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }

        @get("/jwks")
        async def jwks() -> dict[str, Any]:
            standin.jwks_fetches += 1
            return {"keys": [standin.key.as_dict(private=False)]}

        @get("/authorize")
        async def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
            oauth = _Request(
                "GET", str(request.url), dict(request.headers), dict(request.query_params)
            )
            return standin.server.create_authorization_response(oauth, grant_user=standin.user)  # type: ignore[no-any-return]

        @post("/token")
        async def token(request: Request[Any, Any, Any]) -> Response[Any]:
            form = dict(await request.form())
            oauth = _Request("POST", str(request.url), request.headers, form)  # type: ignore[arg-type]
            return standin.server.create_token_response(oauth)  # type: ignore[no-any-return]

        return Litestar([discovery, jwks, authorize, token])

    async def __aenter__(self) -> OidcProvider:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(self._app(), log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)  # fmt: skip
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        await self._server.listening.wait()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task


def authorize_query(**params: str) -> str:
    return urlencode(params)
