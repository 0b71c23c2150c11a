"""Tampering behind the application: each change a database owner can make with the
append-only triggers lifted is reported by `flask afest verify`, on both engines.

On SQLite the owner drops the trigger (any process that can write the file can); on
PostgreSQL the owner of the tables disables it (ALTER TABLE ... DISABLE TRIGGER)."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session

from afest.cli import group
from afest.core import audit
from afest.models import AuditEntry, PurgeWindow, Sequence, Signature, SignedKind, SignerRole
from afest.models.retention import present_token
from afest.proof import signatures


def _verify(app):
    return app.test_cli_runner().invoke(group, ["verify"], catch_exceptions=False)


def _lift_delete_trigger(connection, engine_name: str, table: str) -> None:
    if engine_name == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    else:
        connection.exec_driver_sql(f"DROP TRIGGER {table}_append_only_delete")


def _lift_update_trigger(connection, engine_name: str, table: str) -> None:
    if engine_name == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    else:
        connection.exec_driver_sql(f"DROP TRIGGER {table}_append_only_update")


def test_a_signed_record_rewritten_with_its_signature_is_reported(app, connection, engine_name):
    """The record changed, and the hash of its signatures made to match the new content:
    the audit entries that announced the signatures still hold the hash signed."""
    signed = connection.execute(
        sa.select(Sequence.id, Sequence.public_id)
        .join(
            Signature,
            (Signature.subject_id == Sequence.id) & (Signature.subject_kind == "sequence"),
        )
        .limit(1)
    ).first()
    connection.execute(sa.update(Sequence).where(Sequence.id == signed.id).values(learnt="réécrit"))
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        rewritten = signatures.content_hash(
            session, SignedKind.SEQUENCE, session.get(Sequence, signed.id)
        )
    _lift_update_trigger(connection, engine_name, "signature")
    connection.execute(
        sa.update(Signature)
        .where(Signature.subject_kind == "sequence", Signature.subject_id == signed.id)
        .values(content_hash=rewritten)
    )
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert "changed after it was signed" not in result.output  # the hashes agree now
    assert "hash differs from the one announced by audit #" in result.output


def test_a_deleted_signature_is_reported(app, connection, engine_name):
    signature_id, kind, subject_id = connection.execute(
        sa.select(Signature.id, Signature.subject_kind, Signature.subject_id)
        .order_by(Signature.id.desc())
        .limit(1)
    ).one()
    _lift_delete_trigger(connection, engine_name, "signature")
    connection.execute(sa.delete(Signature).where(Signature.id == signature_id))
    result = _verify(app)
    assert result.exit_code == 1, result.output
    kind = getattr(kind, "value", kind)
    assert f"announces a signature of {kind} #{subject_id}" in result.output
    assert "missing from the signature table" in result.output


def test_a_signature_inserted_without_its_audit_entry_is_reported(app, connection):
    """Inserting is what any writer may do: a signature added without its audit entry."""
    rows = connection.execute(sa.select(Signature).order_by(Signature.id)).all()
    roles = {(r.subject_kind, r.subject_id, r.signer_role) for r in rows}
    row, role = next(
        (r, role)
        for r in rows
        for role in SignerRole
        if (r.subject_kind, r.subject_id, role) not in roles
    )
    values = dict(row._mapping)
    values.pop("id")
    values.update(public_id="forged-signature", signer_role=role)
    new_id = connection.execute(sa.insert(Signature).values(values)).inserted_primary_key[0]
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert f"signature #{new_id}: no audit entry announces this signature" in result.output


def test_a_deletion_in_the_middle_of_a_chain_is_reported(app, connection, engine_name):
    """Already caught by the chain itself: the next entry points to the removed one."""
    protocol_id = connection.execute(
        sa.select(AuditEntry.protocol_id)
        .where(AuditEntry.protocol_id.is_not(None))
        .group_by(AuditEntry.protocol_id)
        .having(func.count() >= 3)
        .limit(1)
    ).scalar_one()
    ids = (
        connection.execute(
            sa.select(AuditEntry.id)
            .where(AuditEntry.protocol_id == protocol_id)
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    _lift_delete_trigger(connection, engine_name, "auditentry")
    connection.execute(sa.delete(AuditEntry).where(AuditEntry.id == ids[1]))
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert f"audit #{ids[2]} (protocol {protocol_id}): chain broken" in result.output


def _checkpoint(app, *args):
    return app.test_cli_runner().invoke(group, ["checkpoint", *args], catch_exceptions=False)


def _chain_with(connection, at_least: int) -> tuple[int, list[int]]:
    protocol_id = connection.execute(
        sa.select(AuditEntry.protocol_id)
        .where(AuditEntry.protocol_id.is_not(None))
        .group_by(AuditEntry.protocol_id)
        .having(func.count() >= at_least)
        .order_by(AuditEntry.protocol_id)
        .limit(1)
    ).scalar_one()
    ids = (
        connection.execute(
            sa.select(AuditEntry.id)
            .where(AuditEntry.protocol_id == protocol_id)
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    return protocol_id, ids


def test_a_truncated_chain_is_reported_against_the_checkpoint(app, connection, engine_name):
    protocol_id, ids = _chain_with(connection, 3)
    written = _checkpoint(app)
    assert written.exit_code == 0, written.output
    assert _verify(app).exit_code == 0
    _lift_delete_trigger(connection, engine_name, "auditentry")
    connection.execute(sa.delete(AuditEntry).where(AuditEntry.id.in_(ids[-2:])))
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert (
        f"audit #{ids[-1]} (protocol {protocol_id}): chain shorter than at the checkpoint"
        in result.output
    )
    assert f"its last entry is #{ids[-3]}" in result.output
    # the next checkpoint does not make the removal good
    refused = _checkpoint(app)
    assert refused.exit_code == 1 and "checkpoint refused" in refused.output


def test_a_chain_removed_whole_is_reported_against_the_checkpoint(app, connection, engine_name):
    protocol_id, ids = _chain_with(connection, 1)
    assert _checkpoint(app).exit_code == 0
    _lift_delete_trigger(connection, engine_name, "auditentry")
    connection.execute(sa.delete(AuditEntry).where(AuditEntry.protocol_id == protocol_id))
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert f"audit #{ids[-1]} (protocol {protocol_id}): chain shorter" in result.output
    assert "no entry left" in result.output


def test_a_checkpointed_head_replaced_is_reported(app, connection, engine_name):
    """The tail removed, then as many entries appended again: as long, but not the same."""
    protocol_id, ids = _chain_with(connection, 2)
    assert _checkpoint(app).exit_code == 0
    _lift_delete_trigger(connection, engine_name, "auditentry")
    connection.execute(sa.delete(AuditEntry).where(AuditEntry.id == ids[-1]))
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        audit.record(
            session,
            actor_id=None,
            action="sequence.sign",
            subject_kind="x",
            subject_id=None,
            protocol_id=protocol_id,
        )
        session.commit()
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert f"audit #{ids[-1]} (protocol {protocol_id}): not the entry checkpointed" in (
        result.output
    )


def test_a_checkpoint_changed_in_the_file_is_reported(app, connection, checkpoint_dir):
    assert _checkpoint(app).exit_code == 0
    (path,) = checkpoint_dir.iterdir()
    path.write_text(path.read_text().replace('"chains":{', '"chains":{"999999":[1,"x"],'))
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert "checkpoint: the latest checkpoint's seal does not match" in result.output


def test_checkpoints_are_appended_one_line_each(app, connection, checkpoint_dir):
    assert _checkpoint(app).exit_code == 0
    assert _checkpoint(app).exit_code == 0
    (path,) = checkpoint_dir.iterdir()
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all('"seal":' in line for line in lines)
    assert "Compared with the latest checkpoint" in _verify(app).output


def test_the_nightly_checkpoint_is_written_then_refused_once_a_tail_is_removed(
    app, connection, engine_name, checkpoint_dir, caplog
):
    from afest.proof.jobs import checkpoint_nightly, verify_nightly

    with app.app_context():
        assert checkpoint_nightly.call_local() is True
        assert verify_nightly.call_local() == 0
        _protocol_id, ids = _chain_with(connection, 2)
        _lift_delete_trigger(connection, engine_name, "auditentry")
        connection.execute(sa.delete(AuditEntry).where(AuditEntry.id == ids[-1]))
        assert verify_nightly.call_local() == 1
        assert checkpoint_nightly.call_local() is False
    (path,) = checkpoint_dir.iterdir()
    assert len(path.read_text().splitlines()) == 1
    assert "checkpoint refused" in caplog.text


# --- the purge window --------------------------------------------------------------------


def _delete_a_signature(connection) -> None:
    connection.execute(
        sa.delete(Signature).where(
            Signature.id == sa.select(sa.func.max(Signature.id)).scalar_subquery()
        )
    )


def test_a_purge_window_inserted_through_the_orm_opens_nothing(app, connection):
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        session.add(PurgeWindow(token="0" * 64))
        session.flush()
        try:
            with connection.begin_nested():
                _delete_a_signature(connection)
        except sa.exc.DBAPIError as exc:
            assert "append-only" in str(exc)
        else:
            raise AssertionError("a row in purgewindow let a signature be deleted")


def test_the_token_of_another_window_opens_nothing(app, connection):
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        session.add(PurgeWindow(token="1" * 64))
        session.flush()
        present_token(connection, "2" * 64)
        try:
            with connection.begin_nested():
                _delete_a_signature(connection)
        except sa.exc.DBAPIError as exc:
            assert "append-only" in str(exc)
        else:
            raise AssertionError("a token without its window let a signature be deleted")
        finally:
            present_token(connection, None)


def test_a_role_granted_writes_cannot_open_a_purge_window(app, connection, engine_name):
    """PostgreSQL: the tables' owner (the app's user) opens a window, a role that was only
    granted writes on them cannot, even presenting the token of its own row."""
    if engine_name != "postgresql":
        pytest.skip("SQLite has no roles: whoever can write the file can drop the triggers")
    role = f"afest_writer_{secrets.token_hex(4)}"  # made and dropped with the test's transaction
    connection.exec_driver_sql(f"CREATE ROLE {role}")
    connection.exec_driver_sql(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
    )
    connection.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    connection.exec_driver_sql(f"SET LOCAL ROLE {role}")
    token = "3" * 64
    try:
        with connection.begin_nested():
            present_token(connection, token)
            connection.execute(
                sa.insert(PurgeWindow).values(opened_at=sa.func.now(), reason="x", token=token)
            )
            _delete_a_signature(connection)
    except sa.exc.DBAPIError as exc:
        assert "only the purge opens a purge window" in str(exc)
    else:
        raise AssertionError("a role granted writes opened a purge window")
    finally:
        connection.exec_driver_sql("RESET ROLE")
