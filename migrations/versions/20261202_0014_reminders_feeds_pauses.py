"""reminder digests, calendar feeds, protocol pauses

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendarfeed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_calendarfeed_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendarfeed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendarfeed_token_hash")),
    )
    with op.batch_alter_table("calendarfeed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendarfeed_user_id"), ["user_id"], unique=False)

    op.create_table(
        "reminderdigest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outboxmessage.id"],
            name=op.f("fk_reminderdigest_message_id_outboxmessage"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_reminderdigest_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminderdigest")),
        sa.UniqueConstraint("user_id", "period", name=op.f("uq_reminderdigest_user_id")),
    )
    with op.batch_alter_table("reminderdigest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminderdigest_user_id"), ["user_id"], unique=False)

    op.create_table(
        "protocolpause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("paused_from", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("planned_until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resumed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resumed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_protocolpause_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocol.id"], name=op.f("fk_protocolpause_protocol_id_protocol")
        ),
        sa.ForeignKeyConstraint(
            ["resumed_by_id"], ["user.id"], name=op.f("fk_protocolpause_resumed_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocolpause")),
    )
    with op.batch_alter_table("protocolpause", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_protocolpause_protocol_id"), ["protocol_id"], unique=False
        )

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reminder_frequency", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("reminder_frequency")

    with op.batch_alter_table("protocolpause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_protocolpause_protocol_id"))

    op.drop_table("protocolpause")
    with op.batch_alter_table("reminderdigest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminderdigest_user_id"))

    op.drop_table("reminderdigest")
    with op.batch_alter_table("calendarfeed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendarfeed_user_id"))

    op.drop_table("calendarfeed")
