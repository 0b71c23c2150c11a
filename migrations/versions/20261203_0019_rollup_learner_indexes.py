"""rollups: indexes that count a dashboard row's distinct learners from the index alone

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 10:00:00

Each holds an owner (funder or cohort), one dimension of a dashboard's rows and the learner;
the two former (owner, structure) indexes are replaced by their (owner, structure, learner)
forms. Written out here rather than imported: a revision keeps the schema of its day.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSIONS = (
    ("structure", "structure_id"),
    ("dept", "departement"),
    ("ref", "referential_id"),
    ("month", "month"),
    ("status", "status"),
)
INDEXES = {
    f"ix_rollupprotocol_{owner}_{dimension}": [f"{owner}_id", column, "learner_id"]
    for owner in ("funder", "cohort")
    for dimension, column in DIMENSIONS
} | {"ix_rollupprotocol_structure": ["structure_id", "learner_id"]}


def upgrade() -> None:
    op.drop_index("ix_rollupprotocol_funder_structure", table_name="rollupprotocol")
    op.drop_index("ix_rollupprotocol_cohort_structure", table_name="rollupprotocol")
    for name, columns in INDEXES.items():
        op.create_index(name, "rollupprotocol", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="rollupprotocol")
    op.create_index(
        "ix_rollupprotocol_funder_structure", "rollupprotocol", ["funder_id", "structure_id"]
    )
    op.create_index(
        "ix_rollupprotocol_cohort_structure", "rollupprotocol", ["cohort_id", "structure_id"]
    )
