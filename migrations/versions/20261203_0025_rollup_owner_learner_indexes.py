"""rollups: an owner's learners counted in all from an index in learner order

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-03 13:30:00

A dashboard's total of distinct learners for an OPCO (or a cohort) sorted the owner's
protocols' learners to count them (8.5 ms of a national OPCO's page on SQLite); an index of
(owner, learner) gives them in order (1.8 ms). Written out here rather than imported: a
revision keeps the schema of its day.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_rollupprotocol_funder_learner": ["funder_id", "learner_id"],
    "ix_rollupprotocol_cohort_learner": ["cohort_id", "learner_id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "rollupprotocol", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="rollupprotocol")
