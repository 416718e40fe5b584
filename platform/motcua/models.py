"""Imports every domain's models, so the metadata is complete for migrations and checks."""

from motcua.audit.models import AuditEvent, PlatformAuditEvent
from motcua.auth.models import ApiKey
from motcua.broadcasts.models import Area, Broadcast, Subscription, Topic
from motcua.calendar.models import CalendarDay
from motcua.catalog.models import Agency, Procedure, ProcedureAgency
from motcua.conversations.models import ChatCitizen, QuestionThread, ReceivedEvent, ThreadMessage
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
    "Area",
    "AuditEvent",
    "Broadcast",
    "CalendarDay",
    "ChannelSetting",
    "ChannelToken",
    "ChatCitizen",
    "Dossier",
    "DossierCounter",
    "DossierEvent",
    "IdempotentRequest",
    "Notice",
    "NoticeAttempt",
    "NoticeTemplate",
    "PlatformAuditEvent",
    "Procedure",
    "ProcedureAgency",
    "QuestionThread",
    "Rating",
    "ReceivedEvent",
    "Subscription",
    "Tenant",
    "TenantDomain",
    "ThreadMessage",
    "Topic",
]
