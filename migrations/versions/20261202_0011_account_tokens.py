"""account tokens: the single-use links of invitations and password resets

Only the SHA-256 of a link's secret is stored; a link works once (used_at).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounttoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_accounttoken_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_accounttoken_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounttoken")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_accounttoken_token_hash")),
    )
    with op.batch_alter_table("accounttoken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounttoken_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("accounttoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounttoken_user_id"))

    op.drop_table("accounttoken")
