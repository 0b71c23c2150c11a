"""api tokens: bearer tokens of organisations for the read-only API, and the keyset index its
protocol lists page through

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "apitoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", text(length=22), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", text(length=120), nullable=False),
        sa.Column("token_hash", text(length=64), nullable=False),
        sa.Column("prefix", text(length=12), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_apitoken_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_apitoken_created_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apitoken")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_apitoken_token_hash")),
    )
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apitoken_public_id"), ["public_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_apitoken_organisation_id"), ["organisation_id"])
    with op.batch_alter_table("protocol", schema=None) as batch_op:
        batch_op.create_index(
            "ix_protocol_funder_keyset", ["funder_id", "created_at", "public_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("protocol", schema=None) as batch_op:
        batch_op.drop_index("ix_protocol_funder_keyset")
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apitoken_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_apitoken_public_id"))
    op.drop_table("apitoken")
