"""sequence attachments: photos and PDFs attached to a sequence, part of its signed content

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 19:00:00

The bytes are kept outside the database (afest.core.storage, under their SHA-256); a row
names them, with the sequence, its place among the sequence's attachments, the file's name,
type and size.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "sequenceattachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", text(length=22), nullable=False),
        sa.Column("sequence_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", text(length=120), nullable=False),
        sa.Column("media_type", text(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", text(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sequence_id"],
            ["sequence.id"],
            name=op.f("fk_sequenceattachment_sequence_id_sequence"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sequenceattachment")),
        sa.UniqueConstraint(
            "sequence_id", "position", name=op.f("uq_sequenceattachment_sequence_id")
        ),
    )
    with op.batch_alter_table("sequenceattachment") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sequenceattachment_public_id"), ["public_id"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_sequenceattachment_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_table("sequenceattachment")
