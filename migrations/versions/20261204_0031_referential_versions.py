"""referential versions: a revised RNCP fiche is a new version of its référentiel (same code,
next version, pointing to the one it revises); blocks keep the register's assessment terms

Revision ID: 0031
Revises: 0033
Create Date: 2026-12-04 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referential", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_referential_previous_id_referential"),
            "referential",
            ["previous_id"],
            ["id"],
        )
        batch_op.drop_constraint("uq_referential_code", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_referential_code"), ["code", "version"])
        batch_op.create_index(batch_op.f("ix_referential_code"), ["code"], unique=False)
    with op.batch_alter_table("competenceblock", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("assessment_terms", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("competenceblock", schema=None) as batch_op:
        batch_op.drop_column("assessment_terms")
    with op.batch_alter_table("referential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referential_code"))
        batch_op.drop_constraint("uq_referential_code", type_="unique")
        batch_op.create_unique_constraint("uq_referential_code", ["code"])
        batch_op.drop_constraint(
            batch_op.f("fk_referential_previous_id_referential"), type_="foreignkey"
        )
        batch_op.drop_column("previous_id")
        batch_op.drop_column("version")
