"""Tenants (provinces), their domains, resolution of a request's tenant, packs, onboarding."""
