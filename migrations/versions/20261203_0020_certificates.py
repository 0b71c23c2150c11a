"""certificates: the certificat de réalisation of a protocol, as its signatory signed it

Revision ID: 0020
Revises: 0024
Create Date: 2026-12-03 13:10:00

`certificate` keeps what a certificat de réalisation stated when the dispensateur's
signatory (the structure's manager) signed it: learner, employer and SIRET, title, nature,
first and last day, minutes certified, dispensateur, the signatory's name and role, place
and date. Its signature is a row of `signature` of kind "certificate" (a VARCHAR enum: no
change there). New table only: the downgrade drops it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", text(length=22), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("learner_name", text(length=200), nullable=False),
        sa.Column("employer_name", text(length=200), nullable=False),
        sa.Column("employer_siret", text(length=14), nullable=True),
        sa.Column("title", text(length=200), nullable=False),
        sa.Column("nature", text(length=40), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("dispensateur_name", text(length=200), nullable=False),
        sa.Column("dispensateur_siret", text(length=14), nullable=True),
        sa.Column("signatory_id", sa.Integer(), nullable=False),
        sa.Column("signatory_name", text(length=200), nullable=False),
        sa.Column("signatory_role", text(length=120), nullable=False),
        sa.Column("place", text(length=120), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocol.id"], name=op.f("fk_certificate_protocol_id_protocol")
        ),
        sa.ForeignKeyConstraint(
            ["signatory_id"], ["user.id"], name=op.f("fk_certificate_signatory_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_public_id"), ["public_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_certificate_protocol_id"), ["protocol_id"])
        batch_op.create_index(batch_op.f("ix_certificate_signatory_id"), ["signatory_id"])


def downgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_signatory_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_protocol_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_public_id"))
    op.drop_table("certificate")
