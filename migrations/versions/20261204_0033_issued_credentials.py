"""issued credentials: Open Badges 3.0 a learner downloads, kept as signed, revocable

Revision ID: 0033
Revises: 0030
Create Date: 2026-12-04 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0033"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    moment = sqlmodel.sql.sqltypes.UTCDateTime
    op.create_table(
        "issuedcredential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", text(length=22), nullable=False),
        sa.Column("uuid", text(length=36), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("kind", text(length=20), nullable=False),
        sa.Column("source_kind", text(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("block_code", text(length=40), nullable=False),
        sa.Column("title", text(length=300), nullable=False),
        sa.Column("issued_at", moment(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("jwt", sa.Text(), nullable=False),
        sa.Column("revoked_at", moment(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["user.id"], name=op.f("fk_issuedcredential_issued_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["organisation.id"],
            name=op.f("fk_issuedcredential_issuer_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["user.id"], name=op.f("fk_issuedcredential_learner_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["user.id"], name=op.f("fk_issuedcredential_revoked_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuedcredential")),
        sa.UniqueConstraint(
            "learner_id",
            "kind",
            "source_kind",
            "source_id",
            "block_code",
            name=op.f("uq_issuedcredential_learner_id"),
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_issuedcredential_uuid")),
    )
    with op.batch_alter_table("issuedcredential") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issuedcredential_issuer_id"), ["issuer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issuedcredential_public_id"), ["public_id"], unique=True
        )


def downgrade() -> None:
    op.drop_table("issuedcredential")
