"""Tampering behind the application: each change a database owner can make with the
append-only triggers lifted is reported by `flask afest verify`, on both engines.

On SQLite the owner drops the trigger (any process that can write the file can); on
PostgreSQL the owner of the tables disables it (ALTER TABLE ... DISABLE TRIGGER)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import func

from afest.cli import group
from afest.models import AuditEntry, Signature, SignerRole


def _verify(app):
    return app.test_cli_runner().invoke(group, ["verify"], catch_exceptions=False)


def _lift_delete_trigger(connection, engine_name: str, table: str) -> None:
    if engine_name == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    else:
        connection.exec_driver_sql(f"DROP TRIGGER {table}_append_only_delete")


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
