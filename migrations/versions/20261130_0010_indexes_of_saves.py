"""sequences and assessments: no index the save writes for nothing

A protocol's sequences and assessments were indexed twice by protocol: alone, and as the
first column of (protocol, occurred_at) and (protocol, competence, assessed_at), which serve
every lookup the first served. The references most rows leave empty (a sequence's amendment,
an assessment's sequence or evaluation) are indexed only where set: a save no longer writes
an index entry for an empty reference.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, column) of the references indexed only where set
WHEN_SET = [
    ("sequence", "ix_sequence_amends_id", "amends_id"),
    ("competenceassessment", "ix_competenceassessment_sequence_id", "sequence_id"),
    ("competenceassessment", "ix_competenceassessment_evaluation_id", "evaluation_id"),
]
# (table, index, column) of the indexes another one's first column serves
SERVED = [
    ("sequence", "ix_sequence_protocol_id", "protocol_id"),
    ("competenceassessment", "ix_competenceassessment_protocol_id", "protocol_id"),
]


def upgrade() -> None:
    for table, name, _column in SERVED:
        op.drop_index(name, table_name=table)
    for table, name, column in WHEN_SET:
        when_set = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], postgresql_where=when_set, sqlite_where=when_set)


def downgrade() -> None:
    for table, name, column in WHEN_SET:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column])
    for table, name, column in SERVED:
        op.create_index(name, table, [column])
