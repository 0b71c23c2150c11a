"""rollups: conditions 3 and 4 recounted (a situation at least; an evaluation signed by the tutor)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 12:00:00

Condition 3 is no longer met by a protocol without any situation, and condition 4 only by a
current evaluation the tutor signed. The stored `cond_reflection`, `cond_evaluation` and
`compliant` of the rollups were counted the old way: every protocol is marked out of date
(rolluppending), and the next settle — on the next dashboard read, or the settler's job —
recomputes each one with the definitions of the code running then. No column changes, so the
downgrade marks them again for the older code to count its way.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK_ALL = (
    "INSERT INTO rolluppending (protocol_id, marks) "
    "SELECT p.id, 1 FROM protocol p "
    "WHERE NOT EXISTS (SELECT 1 FROM rolluppending r WHERE r.protocol_id = p.id)"
)


def upgrade() -> None:
    op.execute(MARK_ALL)


def downgrade() -> None:
    op.execute(MARK_ALL)
