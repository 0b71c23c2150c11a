"""rollups: distinct learners kept for the pages that are not filtered

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 14:00:00

For each owner (an OPCO "f", a cohort "c"), each dimension of a dashboard's tables and each
row of it, `rollupmember` holds one row per learner with her protocols there, and
`rolluplearners` the number of those rows (afest.dashboards.members). Both are filled here
from the protocols' facts. Written out here rather than imported: a revision keeps the
schema of its day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSIONS = {
    "total": "''",
    "status": "CAST(status AS VARCHAR(40))",
    "paused": "CAST(paused AS VARCHAR(40))",
    "structure": "CAST(structure_id AS VARCHAR(40))",
    "dept": "CAST(departement AS VARCHAR(40))",
    "ref": "CAST(referential_id AS VARCHAR(40))",
    "month": "CAST(month AS VARCHAR(40))",
}
OWNERS = {"f": "funder_id", "c": "cohort_id"}


def _owner_key() -> list[sa.Column]:
    return [
        sa.Column("owner", sa.String(1), primary_key=True),
        sa.Column("owner_id", sa.Integer, primary_key=True),
        sa.Column("dim", sa.String(9), primary_key=True),
        sa.Column("key", sa.String(40), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "rollupmember",
        *_owner_key(),
        sa.Column("learner_id", sa.Integer, primary_key=True),
        sa.Column("protocols", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_rollupmember_learner", "rollupmember", ["learner_id"])
    op.create_table(
        "rolluplearners",
        *_owner_key(),
        sa.Column("learners", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    for table, count in (("rollupmember", "protocols"), ("rolluplearners", "learners")):
        empty = sa.text(f"{count} = 0")
        op.create_index(
            f"ix_{table}_empty", table, [count], sqlite_where=empty, postgresql_where=empty
        )
    parts = [
        f"SELECT '{owner}' AS owner, {column} AS owner_id, '{dim}' AS dim, {key} AS key, "
        f"learner_id FROM rollupprotocol WHERE {column} != 0"
        + (" AND status = 'in_progress'" if dim == "paused" else "")
        for owner, column in OWNERS.items()
        for dim, key in DIMENSIONS.items()
    ]
    op.execute(
        "INSERT INTO rollupmember (owner, owner_id, dim, key, learner_id, protocols) "
        "SELECT owner, owner_id, dim, key, learner_id, COUNT(*) FROM ("
        + " UNION ALL ".join(parts)
        + ") AS facts GROUP BY owner, owner_id, dim, key, learner_id"
    )
    op.execute(
        "INSERT INTO rolluplearners (owner, owner_id, dim, key, learners) "
        "SELECT owner, owner_id, dim, key, COUNT(*) FROM rollupmember "
        "GROUP BY owner, owner_id, dim, key"
    )


def downgrade() -> None:
    op.drop_table("rolluplearners")
    op.drop_table("rollupmember")
