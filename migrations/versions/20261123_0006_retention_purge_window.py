"""retention: a purge window through which append-only rows past retention can be deleted

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-23 12:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("auditentry", "signature")


def upgrade() -> None:
    op.create_table(
        "purgewindow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purgewindow")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION afest_append_only() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN "
            "IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM purgewindow) THEN RETURN OLD; END IF; "
            "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_delete")
        op.execute(
            f"CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table} "
            "WHEN NOT EXISTS (SELECT 1 FROM purgewindow) "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION afest_append_only() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_delete")
            op.execute(
                f"CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    op.drop_table("purgewindow")
