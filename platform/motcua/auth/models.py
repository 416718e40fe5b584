"""API keys: a platform table, since a key must be found before its tenant is trusted."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from motcua.db import Base


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    VIEWER = "viewer"  # reads what an officer reads, changes nothing
    INTEGRATION = "integration"
    OPERATOR = "operator"  # platform operators only


class ApiKey(Base):
    __tablename__ = "api_keys"

    # The public half of the key, used to find it; the secret half is stored hashed only.
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="key_role", values_callable=lambda e: [m.value for m in e])
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    # A test key's dossiers send their notices to the simulator, never to a citizen.
    test: Mapped[bool] = mapped_column(default=False)
    # An officer's or viewer's key may be narrowed to an agency and the agencies below it.
    agency_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
