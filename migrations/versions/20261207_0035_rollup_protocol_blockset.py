"""rollups: a protocol's fact row keeps the blocks it targets (`blockset`), and an index per
owner of its protocols by référentiel and blockset

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 15:10:00

The small-cell rule of the block table (afest.dashboards.smallcells) groups an owner's
protocols of a référentiel by the blocks they target: grouping every protocol's block rows
on every page cost a national OPCO's page 140 ms on SQLite, 410 ms on PostgreSQL; grouping
the fact rows by their kept pattern, from an index, costs it 4.5 ms on SQLite, 1.5 ms on
PostgreSQL.

The column is filled here from the block facts already kept (`rollupprotocolblock`, the very
rows `blockset` is made of), so no rebuild of the rollups is needed: one statement, the ids
of a protocol's blocks concatenated in increasing order by a window (an aggregate's own
ORDER BY needs SQLite 3.44), on both engines. A protocol marked and not settled yet gets the
pattern of its block facts as kept, as stale as its other facts until its settle recomputes
them all. On PostgreSQL the update rewrites every fact row: until the next vacuum of
`rollupprotocol` (autovacuum's, or `VACUUM (ANALYZE) rollupprotocol` after the upgrade) its
index-only scans read the table too (the national OPCO's page, 41 ms vacuumed, 64 ms not).
Written out here rather than imported: a revision keeps the schema of its day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    f"ix_rollupprotocol_{owner}_blockset": [
        f"{owner}_id",
        "referential_id",
        "blockset",
        "learners",
        "learner_id",
    ]
    for owner in ("funder", "cohort")
}


def upgrade() -> None:
    op.add_column(
        "rollupprotocol", sa.Column("blockset", sa.Text(), nullable=False, server_default="")
    )
    facts = sa.table("rollupprotocol", sa.column("protocol_id"), sa.column("blockset"))
    blocks = sa.table("rollupprotocolblock", sa.column("protocol_id"), sa.column("block_id"))
    ordered = sa.select(
        blocks.c.protocol_id,
        sa.func.aggregate_strings(sa.cast(blocks.c.block_id, sa.String), ",")
        .over(partition_by=blocks.c.protocol_id, order_by=blocks.c.block_id, rows=(None, None))
        .label("blockset"),
    ).subquery()
    patterns = (
        sa.select(ordered.c.protocol_id, sa.func.min(ordered.c.blockset).label("blockset"))
        .group_by(ordered.c.protocol_id)
        .subquery()
    )
    op.execute(
        sa.update(facts)
        .values(blockset=patterns.c.blockset)
        .where(facts.c.protocol_id == patterns.c.protocol_id)
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "rollupprotocol", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="rollupprotocol")
    with op.batch_alter_table("rollupprotocol") as batch:
        batch.drop_column("blockset")
