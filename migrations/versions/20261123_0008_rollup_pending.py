"""rollups: protocols marked out of date by a save, settled by the next reader

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rolluppending",
        sa.Column("protocol_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("marks", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("protocol_id", name=op.f("pk_rolluppending")),
    )


def downgrade() -> None:
    op.drop_table("rolluppending")
