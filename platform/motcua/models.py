"""Imports every domain's models, so the metadata is complete for migrations and checks."""

from motcua.auth.models import ApiKey
from motcua.catalog.models import Agency
from motcua.tenancy.models import Tenant, TenantDomain

__all__ = ["Agency", "ApiKey", "Tenant", "TenantDomain"]
