"""The platform's own session tokens: short-lived JWTs signed with the session keys.

A token carries everything a guard needs (who, which province, role, agency), so a request
signed in with one costs no database query; sign-out revokes its session id in Redis.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from motcua.auth.models import Role
from motcua.auth.service import Principal
from motcua.settings import Settings

ISSUER = "motcua"
ACCESS_SECONDS = 15 * 60
ALGORITHM = "HS256"


class SessionSigner:
    def __init__(self, secrets_newest_first: list[str]) -> None:
        keys: list[Any] = [
            OctKey.import_key(raw.encode(), {"kid": hashlib.sha256(raw.encode()).hexdigest()[:16]})
            for raw in secrets_newest_first
        ]
        self._signing = keys[0]
        self._all = KeySet(keys)

    @classmethod
    def for_settings(cls, settings: Settings) -> SessionSigner:
        if settings.session_keys:
            return cls(list(settings.session_keys))
        # Development: one key kept beside the embedded servers' data.
        path = settings.data_dir / "session.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return cls([Path(path).read_text().strip()])

    def issue(self, principal: Principal, session_id: str, *, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": principal.subject,
            "knd": principal.kind,
            "tid": str(principal.tenant_id) if principal.tenant_id else None,
            "rol": principal.role.value,
            "agy": principal.agency_code,
            "nam": principal.display,
            "sid": session_id,
            "iat": issued,
            "exp": issued + ACCESS_SECONDS,
        }
        header = {"alg": ALGORITHM, "kid": self._signing.kid}
        return jwt.encode(header, claims, self._signing, algorithms=[ALGORITHM])

    def verify(self, token: str) -> Principal | None:
        """The token's principal, or None when it is forged, expired or malformed."""
        try:
            decoded = jwt.decode(token, self._all, algorithms=[ALGORITHM])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": ISSUER},
                exp={"essential": True},
                sub={"essential": True},
                sid={"essential": True},
            ).validate(decoded.claims)
            claims = decoded.claims
            kind = claims["knd"]
            if kind not in ("staff", "operator"):
                return None
            return Principal(
                kind=kind,
                subject=str(claims["sub"]),
                tenant_id=uuid.UUID(claims["tid"]) if claims.get("tid") else None,
                role=Role(claims["rol"]),
                display=str(claims.get("nam") or ""),
                agency_code=claims.get("agy"),
                session_id=str(claims["sid"]),
            )
        except (JoseError, KeyError, ValueError, TypeError):
            return None


@functools.lru_cache(maxsize=4)
def signer_for(settings: Settings) -> SessionSigner:
    """One signer per settings: reading the development key file once is enough."""
    return SessionSigner.for_settings(settings)


def revoked_key(settings: Settings, session_id: str) -> str:
    """The Redis key that marks a signed-out session until its last token has expired."""
    return f"{settings.queue_name}:revoked-session:{session_id}"
