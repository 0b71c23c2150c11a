"""evaluation: the index of amendments holds only the evaluations that amend another

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-03 13:00:00

Almost every evaluation amends none: an index of every row, NULL for nearly all, is one that
SQLite's statistics (ANALYZE) rightly judge useless, so "is this evaluation amended?" was
answered by reading every evaluation for each one (the dashboards' full rebuild spent 290 of
its 300 s there on the national dataset). The partial index, as the sequences' amendments
already have, holds only the rows with a value. Written out here rather than imported: a
revision keeps the schema of its day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN_SET = sa.text("amends_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_evaluation_amends_id", table_name="evaluation")
    op.create_index(
        "ix_evaluation_amends_id",
        "evaluation",
        ["amends_id"],
        postgresql_where=WHEN_SET,
        sqlite_where=WHEN_SET,
    )


def downgrade() -> None:
    op.drop_index("ix_evaluation_amends_id", table_name="evaluation")
    op.create_index("ix_evaluation_amends_id", "evaluation", ["amends_id"])
