"""names as they were

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 21:54:57.215136
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "dossier_events",
        sa.Column("agency_name", sa.String(length=300), nullable=False, server_default=""),
    )
    op.add_column(
        "dossier_events", sa.Column("to_agency_name", sa.String(length=300), nullable=True)
    )
    op.add_column(
        "dossiers",
        sa.Column("procedure_name", sa.String(length=500), nullable=False, server_default=""),
    )
    op.add_column(
        "dossiers",
        sa.Column("agency_name", sa.String(length=300), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("dossiers", "agency_name")
    op.drop_column("dossiers", "procedure_name")
    op.drop_column("dossier_events", "to_agency_name")
    op.drop_column("dossier_events", "agency_name")
