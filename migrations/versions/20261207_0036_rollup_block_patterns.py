"""rollups: the block patterns of each owner kept (`rollupblockpattern`)

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 15:30:00

The block table's small-cell rule (afest.dashboards.smallcells) reads how many protocols of a
référentiel target each set of its blocks, and how many of them are their learner's latest.
Grouping a national OPCO's 35,000 fact rows for it cost every page 4.2 ms on SQLite, 5.7 ms on
PostgreSQL; the page of one owner without filters now reads the few dozen rows kept for it
here, per owner (an OPCO "f" or a cohort "c"), référentiel and blockset, moved by every settle
as the cells are.

Filled here from the fact rows kept (`rollupprotocol`) by the rebuild's grouping, so no
rebuild is needed; a protocol marked and not settled yet counts with its facts as kept, which
its settle takes away before it adds the new ones. Written out here rather than imported: a
revision keeps the schema of its day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNERS = {"f": "funder_id", "c": "cohort_id"}


def upgrade() -> None:
    op.create_table(
        "rollupblockpattern",
        sa.Column("owner", sa.String(1), primary_key=True),
        sa.Column("owner_id", sa.Integer, primary_key=True),
        sa.Column("referential_id", sa.Integer, primary_key=True),
        sa.Column("blockset", sa.Text, primary_key=True),
        sa.Column("protocols", sa.Integer, nullable=False),
        sa.Column("latest", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    empty = sa.text("protocols = 0")
    op.create_index(
        "ix_rollupblockpattern_empty",
        "rollupblockpattern",
        ["protocols"],
        sqlite_where=empty,
        postgresql_where=empty,
    )
    for owner, column in OWNERS.items():
        op.execute(
            "INSERT INTO rollupblockpattern "
            "(owner, owner_id, referential_id, blockset, protocols, latest) "
            f"SELECT '{owner}', {column}, referential_id, blockset, COUNT(*), SUM(learners) "
            f"FROM rollupprotocol WHERE {column} != 0 "
            f"GROUP BY {column}, referential_id, blockset"
        )


def downgrade() -> None:
    op.drop_table("rollupblockpattern")
