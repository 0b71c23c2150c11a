"""costs: hourly costs of a structure's people, other costs and evaluation times of a protocol

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:00:00

The employer's statement of expenses (état des dépenses) prices the signed hours of an
AFEST: `hourlycost` holds the loaded salary cost of one hour of a person of a structure, or
the structure's default for its learners or its tutors, over a period of validity;
`othercost` the other costs of a protocol (the tutor's training, an outside help), with the
reference of their accounting proof; `evaluationtime` the time a tutor spent on an
evaluation, which the evaluation does not record. Amounts are integer cents. New tables
only: the downgrade drops them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hourlycost",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sqlmodel.sql.sqltypes.AutoString(length=22), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "role",
            sa.Enum("learner", "tutor", name="costrole", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("cents_per_hour", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (role IS NULL)", name=op.f("ck_hourlycost_person_or_default")
        ),
        sa.CheckConstraint("cents_per_hour > 0", name=op.f("ck_hourlycost_cents_positive")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_hourlycost_period_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_hourlycost_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["organisation.id"],
            name=op.f("fk_hourlycost_structure_id_organisation"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_hourlycost_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hourlycost")),
    )
    with op.batch_alter_table("hourlycost", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hourlycost_public_id"), ["public_id"], unique=True)
        batch_op.create_index(
            "ix_hourlycost_structure_user", ["structure_id", "user_id", "valid_from"], unique=False
        )

    op.create_table(
        "othercost",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sqlmodel.sql.sqltypes.AutoString(length=22), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "tutor_training",
                "external_support",
                "pedagogical",
                "other",
                name="othercostkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("voucher", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_othercost_amount_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_othercost_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocol.id"], name=op.f("fk_othercost_protocol_id_protocol")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_othercost")),
    )
    with op.batch_alter_table("othercost", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_othercost_protocol_id"), ["protocol_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_othercost_public_id"), ["public_id"], unique=True)

    op.create_table(
        "evaluationtime",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("declared_by_id", sa.Integer(), nullable=False),
        sa.Column("declared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["declared_by_id"], ["user.id"], name=op.f("fk_evaluationtime_declared_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation.id"],
            name=op.f("fk_evaluationtime_evaluation_id_evaluation"),
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocol.id"], name=op.f("fk_evaluationtime_protocol_id_protocol")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluationtime")),
        sa.UniqueConstraint("evaluation_id", name=op.f("uq_evaluationtime_evaluation_id")),
    )
    with op.batch_alter_table("evaluationtime", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluationtime_protocol_id"), ["protocol_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluationtime", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluationtime_protocol_id"))

    op.drop_table("evaluationtime")
    with op.batch_alter_table("othercost", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_othercost_public_id"))
        batch_op.drop_index(batch_op.f("ix_othercost_protocol_id"))

    op.drop_table("othercost")
    with op.batch_alter_table("hourlycost", schema=None) as batch_op:
        batch_op.drop_index("ix_hourlycost_structure_user")
        batch_op.drop_index(batch_op.f("ix_hourlycost_public_id"))

    op.drop_table("hourlycost")
