"""Staff and sign-in: the viewer role, officers' keys narrowed to an agency.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new enum value cannot be used in the transaction that adds it: nothing here uses it.
    op.execute("ALTER TYPE key_role ADD VALUE IF NOT EXISTS 'viewer' BEFORE 'integration'")
    op.add_column("api_keys", sa.Column("agency_code", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("api_keys", "agency_code")
    # PostgreSQL cannot drop an enum value; 'viewer' stays, unused.
