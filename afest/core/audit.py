"""The append-only audit log and its hash chain: one chain per protocol, one for the rest."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Insert, Integer, String, bindparam, cast, func, literal, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction
from sqlmodel import Session, select

from afest.models import AuditEntry, Protocol, utcnow

_table = AuditEntry.__table__

HASHED = (
    "at",
    "actor_id",
    "action",
    "subject_kind",
    "subject_id",
    "protocol_id",
    "structure_id",
    "before",
    "after",
)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        # Whatever zone it was entered in, the same instant hashes the same.
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not serialisable: {type(value).__name__}")


def canonical_json(data: Any) -> str:
    """Stable JSON text of a value: sorted keys, no spaces, ISO dates, enum values."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), default=_default, ensure_ascii=False
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plain(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON-safe copy of a dict (dates as ISO text, enums as values)."""
    return None if data is None else json.loads(canonical_json(data))


def hashed_text(values: dict[str, Any]) -> str:
    """What an entry's hash covers after its previous hash: its hashed fields as JSON."""
    return canonical_json({k: values[k] for k in HASHED})


def hash_of(prev_hash: str, values: dict[str, Any]) -> str:
    """The chain hash of an entry: its previous hash, then its hashed fields as JSON."""
    return sha256_hex(prev_hash + hashed_text(values))


def entry_hash(entry: AuditEntry) -> str:
    return hash_of(entry.prev_hash, {k: getattr(entry, k) for k in HASHED})


# --- appending, in one statement -------------------------------------------------------------


class sql_sha256_hex(GenericFunction):
    """In SQL, what `sha256_hex` computes: SHA-256 of the text's UTF-8 bytes, lowercase hex.
    PostgreSQL has it built in; on SQLite afest.core.database registers afest_sha256 on each
    connection."""

    type = String()
    name = "sql_sha256_hex"
    inherit_cache = True


@compiles(sql_sha256_hex, "postgresql")
def _sha256_postgresql(element, compiler, **kw):
    text = compiler.process(element.clauses, **kw)
    return f"encode(sha256(convert_to({text}, 'UTF8')), 'hex')"


@compiles(sql_sha256_hex, "sqlite")
def _sha256_sqlite(element, compiler, **kw):
    return f"afest_sha256({compiler.process(element.clauses, **kw)})"


_OWN = ("at", "actor_id", "action", "subject_kind", "structure_id", "before", "after")


def _append(of_protocol: bool, subject: Any = None) -> Insert:
    """INSERT … SELECT of one entry: the head of its chain read in the same statement, the
    hash computed by the database from that head and the entry's JSON (`hashed_text`).

    `subject`: None, the subject's id is a parameter; else the id column of a row inserted by
    the same statement (a CTE, see `append_of_new_row`), spliced into the hashed JSON."""
    chain = (
        _table.c.protocol_id == bindparam("protocol_id", type_=Integer)
        if of_protocol
        else _table.c.protocol_id.is_(None)
    )
    head = select(_table.c.hash).where(chain).order_by(_table.c.id.desc()).limit(1)
    prev = select(func.coalesce(head.scalar_subquery(), literal("")).label("h")).subquery()
    if subject is None:
        subject_id = bindparam("subject_id", type_=Integer)
        text = bindparam("text", type_=String)
    else:
        subject_id = subject
        text = (
            bindparam("text_head", type_=String)
            .concat(cast(subject, String))
            .concat(bindparam("text_tail", type_=String))
        )
    entry = select(
        *(bindparam(name, type_=_table.c[name].type) for name in _OWN),
        subject_id,
        bindparam("protocol_id", type_=Integer) if of_protocol else literal(None),
        prev.c.h,
        sql_sha256_hex(prev.c.h.concat(text)),
    )
    if subject is not None:  # one row each: the new row and the head
        entry = entry.select_from(subject.table.join(prev, true()))
    return (
        _table.insert()
        .from_select([*_OWN, "subject_id", "protocol_id", "prev_hash", "hash"], entry)
        .returning(_table.c.hash)
    )


def append_of_new_row(new_row_id: Any) -> Insert:
    """The INSERT of a protocol's entry whose subject is a row inserted by the same statement
    (`new_row_id`: the id column of that INSERT's CTE): one entry a row, none when the CTE
    inserted nothing. Its parameters: `params_of_new_row`. PostgreSQL only (SQLite has no
    INSERT in a WITH); the caller locks the chain first (`lock_chain`)."""
    return _append(of_protocol=True, subject=new_row_id)


def params_of_new_row(
    *,
    actor_id: int | None,
    action: str,
    subject_kind: str,
    protocol_id: int,
    structure_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameters of `append_of_new_row`: the entry as `record` writes it, its hashed
    JSON cut where the subject's id goes (the database puts it there, as JSON writes an
    integer)."""
    marker = f"afest-subject-{secrets.token_hex(16)}"
    values = {
        "at": utcnow(),
        "actor_id": actor_id,
        "action": action,
        "subject_kind": subject_kind,
        "subject_id": marker,
        "protocol_id": protocol_id,
        "structure_id": structure_id,
        "before": plain(before),
        "after": plain(after),
    }
    head, tail = hashed_text(values).split(json.dumps(marker))  # exactly one: it is random
    values.update(text_head=head, text_tail=tail)
    del values["subject_id"]
    return values


# Built once: every state change runs one of them.
_APPEND_TO_PROTOCOL = _append(of_protocol=True)
_APPEND_OUTSIDE = _append(of_protocol=False)
# PostgreSQL: two transactions appending to one chain take turns, else both would read the
# same head and fork the chain. A protocol's chain is guarded by the protocol's row (FOR NO
# KEY UPDATE: inserting rows that refer to the protocol is not held up); the chain outside
# any protocol by a transaction-scoped advisory lock (class "AFES", key 0).
CHAIN_LOCK_CLASS = 0x41464553
_LOCK_PROTOCOL = (
    select(Protocol.__table__.c.id)
    .where(Protocol.__table__.c.id == bindparam("protocol_id", type_=Integer))
    .with_for_update(key_share=True)
)
_LOCK_OUTSIDE = select(func.pg_advisory_xact_lock(CHAIN_LOCK_CLASS, 0))
_HELD = "afest.audit_chains_held"  # in session.info: (transaction, protocol ids locked in it)


def chain_held(session: Session, protocol_id: int) -> None:
    """Say that this transaction already locked the protocol's row FOR NO KEY UPDATE (a
    loader did, in the statement that read it): appending to its chain takes no other lock."""
    transaction = session.get_transaction()
    held = session.info.get(_HELD)
    if held is None or held[0] is not transaction:
        session.info[_HELD] = (transaction, {protocol_id})
    else:
        held[1].add(protocol_id)


def _holds(session: Session, protocol_id: int) -> bool:
    held = session.info.get(_HELD)
    return held is not None and held[0] is session.get_transaction() and protocol_id in held[1]


def lock_chain(session: Session, protocol_id: int | None) -> None:
    """PostgreSQL: wait for the turn to append to a chain (held until the transaction ends),
    unless this transaction holds it already. SQLite has one writer at a time already."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    if protocol_id is None:
        conn.execute(_LOCK_OUTSIDE)
    elif not _holds(session, protocol_id):
        conn.execute(_LOCK_PROTOCOL, {"protocol_id": protocol_id})
        chain_held(session, protocol_id)


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    subject_kind: str,
    subject_id: int | None,
    protocol_id: int | None = None,
    structure_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> str:
    """Append one audit entry, chained to the previous entry of the same protocol; return
    its hash.

    What the session holds pending is written first, then the entry, in one INSERT (no
    unit of work, no read ahead of it: every state change passes here). On PostgreSQL the
    chain is locked first, unless this transaction holds it already; SQLite has one writer
    at a time already.
    """
    session.flush()
    lock_chain(session, protocol_id)
    values = {
        "at": utcnow(),
        "actor_id": actor_id,
        "action": action,
        "subject_kind": subject_kind,
        "subject_id": subject_id,
        "protocol_id": protocol_id,
        "structure_id": structure_id,
        "before": plain(before),
        "after": plain(after),
    }
    values["text"] = hashed_text(values)
    statement = _APPEND_OUTSIDE if protocol_id is None else _APPEND_TO_PROTOCOL
    return session.connection().execute(statement, values).scalar_one()
