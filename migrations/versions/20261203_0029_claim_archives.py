"""claim archives: a structure's funding claim over a period, built as one ZIP on the queue

Revision ID: 0029
Revises: 0027
Create Date: 2026-12-03 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0029"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "claimarchive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", text(length=22), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("state", text(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", text(length=64), nullable=False),
        sa.Column("problem", text(length=400), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["organisation.id"],
            name=op.f("fk_claimarchive_structure_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["user.id"], name=op.f("fk_claimarchive_requested_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claimarchive")),
    )
    with op.batch_alter_table("claimarchive", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claimarchive_public_id"), ["public_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_claimarchive_structure_id"), ["structure_id"])


def downgrade() -> None:
    with op.batch_alter_table("claimarchive", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claimarchive_structure_id"))
        batch_op.drop_index(batch_op.f("ix_claimarchive_public_id"))
    op.drop_table("claimarchive")
