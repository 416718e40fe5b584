"""channels managed by the pack or by the province's admin

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "channel_settings",
        sa.Column("managed_by", sa.String(length=8), nullable=False, server_default="pack"),
    )


def downgrade() -> None:
    op.drop_column("channel_settings", "managed_by")
