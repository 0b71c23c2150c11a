"""The append-only audit log and its hash chain: one chain per protocol, one for the rest."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, select

from afest.models import AuditEntry, Protocol, utcnow

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


# --- appending ---------------------------------------------------------------------------

# PostgreSQL: two transactions appending to one chain take turns, else both would read the
# same head and fork the chain. A protocol's chain is guarded by the protocol's row (FOR NO
# KEY UPDATE: inserting rows that refer to the protocol is not held up); the chain outside
# any protocol by a transaction-scoped advisory lock (class "AFES", key 0). SQLite has one
# writer at a time (afest.core.database), which is lock enough.
CHAIN_LOCK_CLASS = 0x41464553
_HELD = "afest.audit_chains_held"  # in session.info: (transaction, protocol ids locked in it)


def lock_protocol(session: Session, protocol_id: int) -> Protocol:
    """Lock a protocol's row for the rest of the transaction (FOR NO KEY UPDATE on
    PostgreSQL) and answer it as it is now: an operation that waited for a concurrent change
    of the protocol (stopped, closed) sees that change. Appending to its chain then takes no
    other lock."""
    protocol = session.exec(
        select(Protocol)
        .where(Protocol.id == protocol_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()
    transaction = session.get_transaction()
    held = session.info.get(_HELD)
    if held is None or held[0] is not transaction:
        session.info[_HELD] = (transaction, {protocol_id})
    else:
        held[1].add(protocol_id)
    return protocol


def _lock_chain(session: Session, protocol_id: int | None) -> None:
    """Wait for the turn to append to a chain, unless this transaction holds it already."""
    if protocol_id is None:
        if session.connection().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_CLASS, 0)))
        return
    held = session.info.get(_HELD)
    if held is None or held[0] is not session.get_transaction() or protocol_id not in held[1]:
        lock_protocol(session, protocol_id)


def _head(session: Session, protocol_id: int | None) -> str:
    chain = (
        AuditEntry.protocol_id == protocol_id
        if protocol_id is not None
        else AuditEntry.protocol_id.is_(None)
    )
    head = session.exec(
        select(AuditEntry.hash).where(chain).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return head or ""


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
    """Append one audit entry, chained to the previous entry of the same chain (the
    protocol's, or the one outside any protocol); return its hash."""
    _lock_chain(session, protocol_id)
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
    prev_hash = _head(session, protocol_id)
    digest = hash_of(prev_hash, values)
    # a row appended, as record_many appends them: no entity to track (the ORM execute still
    # flushes what the caller left pending first)
    session.execute(insert(AuditEntry), [{**values, "prev_hash": prev_hash, "hash": digest}])
    return digest


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append many entries to the chain outside any protocol at once, each chained to the
    one before it, as `record` would one by one: one lock, one read of the chain's head and
    one INSERT of many rows, for an import that creates thousands of records. Each entry
    holds record's keyword arguments but `protocol_id`."""
    if not entries:
        return
    _lock_chain(session, None)
    prev_hash = _head(session, None)
    now = utcnow()
    rows = []
    for entry in entries:
        values = {
            "at": now,
            "actor_id": entry["actor_id"],
            "action": entry["action"],
            "subject_kind": entry["subject_kind"],
            "subject_id": entry["subject_id"],
            "protocol_id": None,
            "structure_id": entry.get("structure_id"),
            "before": plain(entry.get("before")),
            "after": plain(entry.get("after")),
        }
        digest = hash_of(prev_hash, values)
        rows.append({**values, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    # in the order of the list: the ids, which order the chain, follow it
    session.execute(insert(AuditEntry), rows)
