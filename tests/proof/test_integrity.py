"""`flask afest verify`, `backup` and `restore`."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import func
from sqlmodel import Session, select

from afest import create_app
from afest.accounts import operations as accounts
from afest.cli import group
from afest.core.database import make_engine
from afest.models import AuditEntry, Role, Sequence, Signature, User, metadata
from tests.conftest import alembic_config


def _verify(app):
    return app.test_cli_runner().invoke(group, ["verify"], catch_exceptions=False)


def test_verify_passes_on_the_demo_data(app, connection):
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "all intact" in result.output


def test_verify_reports_a_signed_sequence_changed_in_the_database(app, connection, session):
    signed = session.exec(
        select(Sequence)
        .join(
            Signature,
            (Signature.subject_id == Sequence.id) & (Signature.subject_kind == "sequence"),
        )
        .limit(1)
    ).first()
    connection.execute(
        sa.text("UPDATE sequence SET learnt = 'réécrit' WHERE id = :id"), {"id": signed.id}
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"sequence {signed.public_id} changed after it was signed" in result.output


def test_verify_reports_an_audit_entry_changed_behind_the_triggers(app, connection, engine_name):
    entry_id = connection.execute(
        sa.select(func.max(AuditEntry.id)).where(AuditEntry.protocol_id.is_not(None))
    ).scalar_one()
    # Someone with database access removes the protection and edits history.
    if engine_name == "postgresql":
        connection.exec_driver_sql("DROP TRIGGER auditentry_append_only ON auditentry")
    else:
        connection.exec_driver_sql("DROP TRIGGER auditentry_append_only_update")
    connection.execute(
        sa.text("UPDATE auditentry SET action = 'x' WHERE id = :id"), {"id": entry_id}
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"audit #{entry_id}" in result.output and "content changed" in result.output


def _fingerprint(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(sa.select(func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
        }


def test_backup_then_restore_round_trip(fresh_database_url, tmp_path):
    url = fresh_database_url()
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "heads")
    with Session(engine) as session:
        accounts.create_user(
            session,
            actor_id=None,
            email="kept@example.org",
            full_name="Kept",
            password="un-secret-solide",
            roles=[(Role.ADMIN, None)],
        )
        session.commit()
    before = _fingerprint(engine)
    engine.dispose()

    app = create_app({"DATABASE_URL": url, "ENV": "testing"})
    runner = app.test_cli_runner()
    target = tmp_path / "afest.backup"
    result = runner.invoke(group, ["backup", str(target)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0

    engine = make_engine(url)
    with Session(engine) as session:  # a change made after the backup
        accounts.create_user(
            session,
            actor_id=None,
            email="lost@example.org",
            full_name="Lost",
            password="un-secret-solide",
            roles=[(Role.ADMIN, None)],
        )
        session.commit()
    engine.dispose()

    refused = runner.invoke(group, ["restore", str(target)], catch_exceptions=False)
    assert refused.exit_code == 2 and "--yes" in refused.output
    result = runner.invoke(group, ["restore", str(target), "--yes"], catch_exceptions=False)
    assert result.exit_code == 0, result.output

    engine = make_engine(url)
    try:
        assert _fingerprint(engine) == before
        with Session(engine) as session:
            emails = set(session.exec(select(User.email)))
        assert "kept@example.org" in emails and "lost@example.org" not in emails
    finally:
        engine.dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path, engine_name):
    junk = tmp_path / "junk.backup"
    junk.write_text("not a backup at all")
    fresh = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "ENV": "testing"})
    result = fresh.test_cli_runner().invoke(
        group, ["restore", str(junk), "--yes"], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_two_transactions_appending_to_one_chain_take_turns(fresh_database_url, engine_name):
    """Two writers on one protocol at once (two tutors, or a tutor and the manager): the
    second reads the previous entry only once the first has committed, so the chain does not
    fork. On SQLite the database-wide write lock gives the same guarantee."""
    import threading
    import time

    from afest import demo
    from afest.core import audit
    from afest.models import Protocol
    from afest.proof import integrity

    if engine_name != "postgresql":
        pytest.skip("SQLite admits one writer at a time")
    url = fresh_database_url()
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with Session(engine) as s:
        demo.seed(s)
        s.commit()
        protocol_id = s.exec(select(Protocol.id).order_by(Protocol.id)).first()
    recorded = threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with Session(engine) as s:
                audit.record(
                    s,
                    actor_id=None,
                    action="t.first",
                    subject_kind="t",
                    subject_id=1,
                    protocol_id=protocol_id,
                )
                recorded.set()
                time.sleep(0.5)  # the second writer arrives meanwhile
                s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            recorded.set()

    thread = threading.Thread(target=first)
    thread.start()
    recorded.wait(10)
    with Session(engine) as s:
        audit.record(
            s,
            actor_id=None,
            action="t.second",
            subject_kind="t",
            subject_id=2,
            protocol_id=protocol_id,
        )
        s.commit()
    thread.join(10)
    assert not errors
    with Session(engine) as s:
        entries = s.exec(
            select(AuditEntry)
            .where(AuditEntry.protocol_id == protocol_id)
            .order_by(AuditEntry.id.desc())
            .limit(2)
        ).all()
        assert [e.action for e in entries] == ["t.second", "t.first"]
        assert entries[0].prev_hash == entries[1].hash
        assert list(integrity.check_audit_chains(s)) == []
    engine.dispose()
