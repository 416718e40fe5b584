"""The provinces' identity providers, and who a provider's ID token makes of a person."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.auth.accounts import STAFF_ROLES, principal_of
from motcua.auth.models import OidcProvider, Role, Staff
from motcua.auth.oidc import ENV_REFERENCE, ProviderConfig, issuer_problem, resolve_secret
from motcua.auth.service import Principal
from motcua.auth.signin_schemas import ProviderIn
from motcua.catalog.service import CatalogService
from motcua.db import current_tenant
from motcua.errors import Forbidden, Invalid, NotFound
from motcua.settings import Settings

ROLE_NAMES = frozenset(role.value for role in STAFF_ROLES)


def provider_problems(
    issuer: str,
    client_secret: str,
    role_map: dict[str, str],
    *,
    scopes: str = "openid",
    role_claim: str | None = None,
) -> list[tuple[str, str]]:
    """(field, message) for each thing wrong with a provider's settings: the admin route's
    and the pack's [auth.oidc] checks alike."""
    problems = []
    if (why := issuer_problem(issuer)) is not None:
        problems.append(("issuer", why))
    if ENV_REFERENCE.fullmatch(client_secret) is None:
        problems.append(("client_secret", "is a secret: write it as env:VARIABLE"))
    if "openid" not in scopes.split():
        problems.append(("scopes", "must include openid"))
    for claim_value, role in role_map.items():
        if role not in ROLE_NAMES:
            problems.append((f"role_map.{claim_value}", "must be admin, officer or viewer"))
    if role_map and not role_claim:
        problems.append(("role_claim", "names the claim whose values role_map maps: set it"))
    if role_claim and not role_map:
        # Roles would come from this claim alone, and no value of it would give one.
        problems.append(("role_map", "maps no value of role_claim to a role: nobody could sign in"))
    return problems


class ProviderService:
    """On the province's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self) -> OidcProvider | None:
        return await self.session.get(OidcProvider, current_tenant(self.session))

    async def put(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        scopes: str = "openid email profile",
        role_claim: str | None = None,
        role_map: dict[str, str] | None = None,
        agency_claim: str | None = None,
    ) -> OidcProvider:
        problems = provider_problems(
            issuer, client_secret, role_map or {}, scopes=scopes, role_claim=role_claim
        )
        if problems:
            raise Invalid(
                "The identity provider's settings are not valid.",
                errors=[{"field": f, "message": m} for f, m in problems],
            )
        row = await self.get()
        if row is None:
            row = OidcProvider(tenant_id=current_tenant(self.session))
            self.session.add(row)
        row.issuer, row.client_id, row.client_secret = issuer, client_id, client_secret
        row.scopes, row.role_claim, row.agency_claim = scopes, role_claim, agency_claim
        row.role_map = dict(role_map or {})
        await self.session.flush()
        return row

    async def remove(self) -> None:
        row = await self.get()
        if row is not None:
            await self.session.delete(row)

    async def sync(self, wanted: ProviderIn) -> bool:
        """Set the provider as a pack describes it; whether anything changed (a pack
        applied again changes nothing)."""
        row = await self.get()
        if row is not None and pack_table(row) == pack_table(wanted):
            return False
        await self.put(
            issuer=wanted.issuer,
            client_id=wanted.client_id,
            client_secret=wanted.client_secret,
            scopes=wanted.scopes,
            role_claim=wanted.role_claim,
            role_map=wanted.role_map,
            agency_claim=wanted.agency_claim,
        )
        return True

    async def config(self) -> ProviderConfig:
        row = await self.get()
        if row is None:
            raise NotFound("This province has no identity provider; use a staff account.")
        return ProviderConfig(
            issuer=row.issuer,
            client_id=row.client_id,
            client_secret=resolve_secret(row.client_secret),
            scopes=row.scopes,
            role_claim=row.role_claim,
            role_map=dict(row.role_map),
            agency_claim=row.agency_claim,
        )

    async def staff_for(self, config: ProviderConfig, claims: dict[str, Any]) -> Principal:
        """The staff member an ID token names. Role and agency come from the mapped claims
        when the province maps them, else from the staff record (matched by the provider's
        subject, then by verified e-mail). Nobody gets in without a role."""
        subject = str(claims["sub"])
        email = str(claims.get("email") or "").strip().lower()
        staff = await self.session.scalar(select(Staff).where(Staff.oidc_subject == subject))
        if staff is None and email and claims.get("email_verified", False) is not False:
            staff = await self.session.scalar(select(Staff).where(Staff.email == email))
        role, agency = _mapped(config, claims)
        if config.role_claim is None:
            if staff is None:
                raise Forbidden("You have no staff record in this province; ask its admin.")
            role, agency = staff.role, staff.agency_code
        if role is None:
            raise Forbidden("The identity provider gives you no role in this province.")
        if agency is not None and not await CatalogService(self.session).active_agency(agency):
            raise Forbidden(f"Your agency '{agency}' is not an active agency of this province.")
        if staff is not None and not staff.active:
            raise Forbidden("Your staff account is deactivated.")
        if staff is None:
            staff = Staff(
                email=email or f"{subject}@{config.issuer.split('://', 1)[-1].split('/', 1)[0]}",
                name=str(claims.get("name") or email or subject)[:200],
                role=role,
            )
            self.session.add(staff)
        staff.oidc_subject = subject
        staff.role, staff.agency_code = role, agency
        if claims.get("name"):
            staff.name = str(claims["name"])[:200]
        await self.session.flush()
        return principal_of(staff)


def pack_table(provider: OidcProvider | ProviderIn) -> dict[str, Any]:
    """The provider as a pack's [auth.oidc] table writes it (TOML has no null: unset claims
    are left out)."""
    table: dict[str, Any] = {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,  # an env:VAR reference, never a value
        "scopes": provider.scopes,
    }
    if provider.role_claim:
        table["role_claim"] = provider.role_claim
    if provider.agency_claim:
        table["agency_claim"] = provider.agency_claim
    table["role_map"] = dict(provider.role_map)
    return table


def _mapped(config: ProviderConfig, claims: dict[str, Any]) -> tuple[Role | None, str | None]:
    role: Role | None = None
    if config.role_claim:
        values = claims.get(config.role_claim)
        values = values if isinstance(values, list) else [values]
        # The strongest of the roles the claim grants.
        for name in ("admin", "officer", "viewer"):
            if any(config.role_map.get(str(v)) == name for v in values if v is not None):
                role = Role(name)
                break
    agency = claims.get(config.agency_claim) if config.agency_claim else None
    return role, (str(agency) if agency else None)


def operator_config(settings: Settings) -> ProviderConfig:
    if not settings.operator_oidc_issuer or not settings.operator_oidc_client_id:
        raise NotFound("The platform has no identity provider for operators.")
    return ProviderConfig(
        issuer=settings.operator_oidc_issuer,
        client_id=settings.operator_oidc_client_id,
        client_secret=settings.operator_oidc_client_secret,
        role_claim=settings.operator_oidc_role_claim,
    )


def operator_for(settings: Settings, claims: dict[str, Any]) -> Principal:
    """A platform operator: the platform's provider must say so in the configured claim."""
    values = claims.get(settings.operator_oidc_role_claim)
    values = values if isinstance(values, list) else [values]
    if settings.operator_oidc_role_value not in values:
        raise Forbidden("The platform's identity provider does not make you an operator.")
    subject = str(claims["sub"])
    return Principal(
        kind="operator",
        subject=f"operator:{subject}"[:120],
        tenant_id=None,
        role=Role.OPERATOR,
        display=str(claims.get("name") or claims.get("email") or subject)[:200],
    )
