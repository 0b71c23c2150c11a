"""Migrations build the schema from empty on the engine under test, and match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from afest.core.database import make_engine
from afest.models import metadata
from tests.conftest import alembic_config


def test_upgrade_from_empty_check_and_downgrade(fresh_database_url):
    engine = make_engine(fresh_database_url())
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        with engine.begin() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert set(metadata.tables) <= tables
            # Raises if the models and the migrations have drifted apart.
            command.check(alembic_config(conn))
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        with engine.begin() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_revisions_form_a_single_line_of_history():
    script = ScriptDirectory.from_config(alembic_config(None))
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"


def test_audit_log_and_signatures_are_append_only(connection):
    for table in ("auditentry", "signature"):
        with connection.begin_nested() as nested:
            try:
                connection.execute(sa.text(f"UPDATE {table} SET id = id"))
            except sa.exc.DBAPIError as exc:
                assert "append-only" in str(exc)
            else:
                raise AssertionError(f"{table} accepted an UPDATE")
            if nested.is_active:
                nested.rollback()
        with connection.begin_nested() as nested:
            try:
                connection.execute(sa.text(f"DELETE FROM {table}"))
            except sa.exc.DBAPIError as exc:
                assert "append-only" in str(exc)
            else:
                raise AssertionError(f"{table} accepted a DELETE")
            if nested.is_active:
                nested.rollback()


def test_a_table_sqlite_rebuilds_keeps_the_rows_that_point_to_it(tmp_path):
    """`alembic upgrade head` on a SQLite file that holds data: migration 0031 rebuilds the
    référentiel table (batch mode), which competence blocks point to; the rows stay and
    every foreign key still holds. (The suite's other migrations run on empty databases.)"""
    url = f"sqlite:///{tmp_path / 'held.sqlite'}"
    config = alembic_config(None)
    config.set_main_option("sqlalchemy.url", url)  # as `alembic upgrade` runs: env.py's engine
    command.upgrade(config, "0033")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO referential (id, public_id, code, title, short, kind, source,"
                " created_at) VALUES (1, 'r1', 'RNCP35830', 'DEAS', 'DEAS', 'certification',"
                " '', '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO competenceblock (id, referential_id, code, title, position)"
                " VALUES (1, 1, 'RNCP35830BC01', 'Bloc 1', 1)"
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version FROM referential").scalar() == 1
            assert conn.exec_driver_sql("SELECT referential_id FROM competenceblock").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        engine.dispose()
