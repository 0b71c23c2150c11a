"""retention: a purge window opens only with the token of the purge that inserted it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:00:00

Until now any row in `purgewindow`, inserted by anything, let DELETE through the
append-only triggers of `auditentry` and `signature`. A row now carries a token drawn by the
purge for its run, and a DELETE passes only while the connection presents the same token:
on PostgreSQL as the transaction's setting `afest.purge_token`, with rows inserted by the
owner of the table alone (a role merely granted writes cannot open a window); on SQLite
through the function afest_purge_token() that the app defines on its connections (a
connection without it cannot delete at all). `purgewindow` is empty outside a purge's
transaction: it is dropped and made again with its new column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("auditentry", "signature")


def _purgewindow(with_token: bool) -> None:
    op.drop_table("purgewindow")
    columns = [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    ]
    if with_token:
        columns.append(
            sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        )
    op.create_table(
        "purgewindow", *columns, sa.PrimaryKeyConstraint("id", name=op.f("pk_purgewindow"))
    )


def _sqlite_delete_triggers(*, token: bool) -> None:
    condition = " WHERE token = afest_purge_token()" if token else ""
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_delete")
        op.execute(
            f"CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table} "  # noqa: S608 (constants)
            f"WHEN NOT EXISTS (SELECT 1 FROM purgewindow{condition}) "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if not postgresql:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_delete")
    _purgewindow(with_token=True)
    if not postgresql:
        _sqlite_delete_triggers(token=True)
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION afest_append_only() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN "
        "IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM purgewindow "
        "WHERE token = current_setting('afest.purge_token', true)) THEN RETURN OLD; END IF; "
        "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
    )
    op.execute(
        "CREATE FUNCTION afest_purge_window_guard() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN "
        "IF TG_OP = 'INSERT' AND length(NEW.token) >= 32 AND pg_has_role(current_user, "
        "(SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN RETURN NEW; "
        "END IF; "
        "RAISE EXCEPTION 'only the purge opens a purge window (flask afest purge)'; END $$"
    )
    op.execute(
        "CREATE TRIGGER purgewindow_guard BEFORE INSERT OR UPDATE ON purgewindow "
        "FOR EACH ROW EXECUTE FUNCTION afest_purge_window_guard()"
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP TRIGGER IF EXISTS purgewindow_guard ON purgewindow")
        op.execute("DROP FUNCTION IF EXISTS afest_purge_window_guard()")
        op.execute(
            "CREATE OR REPLACE FUNCTION afest_append_only() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN "
            "IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM purgewindow) THEN RETURN OLD; "
            "END IF; "
            "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_delete")
    _purgewindow(with_token=False)
    if not postgresql:
        _sqlite_delete_triggers(token=False)
