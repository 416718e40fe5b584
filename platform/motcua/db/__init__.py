"""Database plumbing: the engine, tenant-scoped sessions and the TenantOwned base."""

from motcua.db.base import Base, TenantOwned, tenant_tables
from motcua.db.session import Database, current_tenant

__all__ = ["Base", "Database", "TenantOwned", "current_tenant", "tenant_tables"]
