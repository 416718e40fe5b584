"""Imports every domain's models, so the metadata is complete for migrations and checks."""

from motcua.auth.models import ApiKey
from motcua.calendar.models import CalendarDay
from motcua.catalog.models import Agency, Procedure, ProcedureAgency
from motcua.dossiers.models import Dossier, DossierCounter, DossierEvent, IdempotentRequest, Rating
from motcua.notices.models import (
    ChannelSetting,
    ChannelToken,
    Notice,
    NoticeAttempt,
    NoticeTemplate,
)
from motcua.tenancy.models import Tenant, TenantDomain

__all__ = [
    "Agency",
    "ApiKey",
    "CalendarDay",
    "ChannelSetting",
    "ChannelToken",
    "Dossier",
    "DossierCounter",
    "DossierEvent",
    "IdempotentRequest",
    "Notice",
    "NoticeAttempt",
    "NoticeTemplate",
    "Procedure",
    "ProcedureAgency",
    "Rating",
    "Tenant",
    "TenantDomain",
]
