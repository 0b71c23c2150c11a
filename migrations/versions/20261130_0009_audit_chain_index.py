"""audit: the head of a protocol's chain found through one index (protocol, id)

Every append reads the last entry of its protocol's chain. With an index on the protocol
alone the database either sorts all of that protocol's entries or walks the whole log
backwards until it meets one of them (long for a protocol idle for months).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.create_index("ix_auditentry_chain", ["protocol_id", "id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_auditentry_protocol_id"))


def downgrade() -> None:
    with op.batch_alter_table("auditentry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auditentry_protocol_id"), ["protocol_id"], unique=False
        )
        batch_op.drop_index("ix_auditentry_chain")
