"""rollups: an index of the cells no protocol or pathway counts in any more

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 13:20:00

A settle removed the cells it emptied by one DELETE per cell it had moved (some 10,000 for a
backlog of 1,000 protocols); with this partial index, empty between settles, one DELETE finds
them. Written out here rather than imported: a revision keeps the schema of its day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY = {"rollupcell": "protocols", "rollupvaecell": "pathways"}


def upgrade() -> None:
    for table, count in EMPTY.items():
        empty = sa.text(f"{count} = 0")
        op.create_index(
            f"ix_{table}_empty", table, [count], sqlite_where=empty, postgresql_where=empty
        )


def downgrade() -> None:
    for table in EMPTY:
        op.drop_index(f"ix_{table}_empty", table_name=table)
