"""notices cleared once they have gone

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 09:00:00

- `notices.forget`: the notice's text and address are cleared once it is sent, failed or
  cancelled (a one-time code; the confirmation of a citizen's erasure of their chat data).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notices", sa.Column("forget", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("notices", "forget")
