"""channel limits

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 21:38:08.961105
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("channel_settings", sa.Column("per_second", sa.Double(), nullable=True))
    op.add_column("channel_settings", sa.Column("per_day", sa.Integer(), nullable=True))
    op.add_column(
        "channel_settings",
        sa.Column(
            "quiet_hours", sa.String(length=11), nullable=False, server_default="21:00-07:00"
        ),
    )


def downgrade() -> None:
    op.drop_column("channel_settings", "quiet_hours")
    op.drop_column("channel_settings", "per_day")
    op.drop_column("channel_settings", "per_second")
