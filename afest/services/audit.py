"""The append-only audit log and its hash chain: one chain per protocol, one for the rest."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Integer, bindparam, func
from sqlmodel import Session, select

from afest.models import AuditEntry, utcnow

# pg_advisory_xact_lock(class, key): the class of afest's audit chains ("AFES"), the key a
# protocol id (0 for the chain of entries outside any protocol).
CHAIN_LOCK_CLASS = 0x41464553
_table = AuditEntry.__table__
_INSERT = _table.insert()
# Built once: every state change runs them.
_TAKE_TURN = select(func.pg_advisory_xact_lock(CHAIN_LOCK_CLASS, bindparam("key", type_=Integer)))
_HEAD_OF_PROTOCOL = (
    select(_table.c.hash)
    .where(_table.c.protocol_id == bindparam("protocol_id"))
    .order_by(_table.c.id.desc())
    .limit(1)
)
_HEAD_OUTSIDE = (
    select(_table.c.hash)
    .where(_table.c.protocol_id.is_(None))
    .order_by(_table.c.id.desc())
    .limit(1)
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


def hash_of(prev_hash: str, values: dict[str, Any]) -> str:
    """The chain hash of an entry: its previous hash, then its hashed fields as JSON."""
    return sha256_hex(prev_hash + canonical_json({k: values[k] for k in HASHED}))


def entry_hash(entry: AuditEntry) -> str:
    return hash_of(entry.prev_hash, {k: getattr(entry, k) for k in HASHED})


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
    unit of work: every state change passes here). On PostgreSQL two transactions appending
    to one chain take turns (a transaction-scoped advisory lock), else both would read the
    same previous entry and fork the chain. SQLite has one writer at a time already.
    """
    session.flush()
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_TAKE_TURN, {"key": protocol_id or 0})
    if protocol_id is None:
        previous = conn.execute(_HEAD_OUTSIDE).scalar()
    else:
        previous = conn.execute(_HEAD_OF_PROTOCOL, {"protocol_id": protocol_id}).scalar()
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
        "prev_hash": previous or "",
    }
    values["hash"] = hash_of(values["prev_hash"], values)
    conn.execute(_INSERT, values)
    return values["hash"]
