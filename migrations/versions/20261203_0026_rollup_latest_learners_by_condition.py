"""rollups: per legal condition, the learners whose latest protocol meets it

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 13:45:00

A dashboard hides a legal condition's count of protocols when those meeting it, or those
not meeting it, are 1 to k − 1 learners. These sums (each learner counted once, under her
most recent protocol, if it meets the condition) are a lower bound of those learners that
spares counting them on almost every page. The new columns start at 0: every protocol is
marked out of date, and the next settle (the next dashboard read, or the settler's job)
counts them; `flask afest rebuild-rollups` does it at once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("l_cond_analysis", "l_cond_tutor", "l_cond_reflection", "l_cond_evaluation")
TABLES = ("rollupprotocol", "rollupcell")
MARK_ALL = (
    "INSERT INTO rolluppending (protocol_id, marks) "
    "SELECT p.id, 1 FROM protocol p "
    "WHERE NOT EXISTS (SELECT 1 FROM rolluppending r WHERE r.protocol_id = p.id)"
)


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name in COLUMNS:
                batch.add_column(
                    sa.Column(name, sa.Integer, nullable=False, server_default="0")
                )
    op.execute(MARK_ALL)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name in COLUMNS:
                batch.drop_column(name)
