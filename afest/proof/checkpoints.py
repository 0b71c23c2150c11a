"""Checkpoints of the audit chains' heads, kept outside the database.

A hash chain shows an entry changed or removed before its last entry, not its last entries
removed: what is left is still a valid chain. So every night (and after each purge, and by
hand: `flask afest checkpoint`) the head of every chain (its id, the id of its last entry,
that entry's hash) is appended as one line to a file outside the database, sealed with an
HMAC. `verify` then reports a chain shorter than its checkpoint, or whose entry at the
checkpointed position hashes otherwise.

The folder is AUDIT_CHECKPOINT_DIR (by default `audit-checkpoints` in the instance folder;
best on another machine or an append-only volume), one file per database. The seal's key
is AUDIT_CHECKPOINT_KEY or, when it is empty, a key derived from SECRET_KEY (never SECRET_KEY
itself: a seal is then no cookie signature). A dedicated key is better: it can be given to
the worker and the commands alone (the web processes never need it), and SECRET_KEY can be
changed without making the earlier checkpoints unverifiable. Whoever holds the key and the
file can forge a checkpoint: the key is not to be kept in the database.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from afest.core.audit import canonical_json
from afest.models import AuditEntry, utcnow

FORMAT = 1
OUTSIDE = "-"  # the chain outside any protocol
_TAIL = 1 << 16


@dataclass(frozen=True)
class Store:
    """Where checkpoints are appended, and the key that seals them."""

    path: Path
    key: bytes

    @classmethod
    def of(cls, app) -> Store:
        """The store of `app`'s database: one file per database (named after its address,
        password left out), so that two databases never read each other's checkpoints."""
        folder = app.config.get("AUDIT_CHECKPOINT_DIR") or ""
        path = Path(folder) if folder else Path(app.instance_path) / "audit-checkpoints"
        address = make_url(app.config["DATABASE_URL"]).set(password=None)
        name = hashlib.sha256(address.render_as_string().encode()).hexdigest()[:16]
        key = (app.config.get("AUDIT_CHECKPOINT_KEY") or "").encode()
        if not key:
            secret = app.config["SECRET_KEY"].encode()
            key = hmac.new(secret, b"afest audit checkpoints", hashlib.sha256).digest()
        return cls(path / f"checkpoints-{name}.jsonl", key)

    def seal(self, body: dict[str, Any]) -> str:
        return hmac.new(self.key, canonical_json(body).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    at: str
    chains: dict[str, tuple[int, str]]  # chain -> (id of its last entry, that entry's hash)

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "at": self.at,
            "chains": {k: list(v) for k, v in sorted(self.chains.items())},
        }


class CheckpointError(Exception):
    """The latest checkpoint cannot be read or its seal does not match."""


def chain_name(protocol_id: int | None) -> str:
    return OUTSIDE if protocol_id is None else str(protocol_id)


def heads(session: Session) -> dict[str, tuple[int, str]]:
    """The last entry of every chain, read in one statement."""
    last = select(sa.func.max(AuditEntry.id)).group_by(AuditEntry.protocol_id)
    rows = session.exec(
        select(AuditEntry.protocol_id, AuditEntry.id, AuditEntry.hash).where(
            AuditEntry.id.in_(last)
        )
    )
    return {chain_name(protocol_id): (entry_id, digest) for protocol_id, entry_id, digest in rows}


def _last_line(path: Path) -> bytes | None:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    with handle:
        end = handle.seek(0, os.SEEK_END)
        block, start = b"", end
        while start > 0:
            start = max(0, start - _TAIL)
            handle.seek(start)
            block = handle.read(end - start)
            if block.rstrip(b"\n").count(b"\n") >= 1:
                break
        lines = [line for line in block.split(b"\n") if line.strip()]
        return lines[-1] if lines else None


def latest(store: Store) -> Checkpoint | None:
    """The last checkpoint of the file, its seal checked; None when none was written yet."""
    line = _last_line(store.path)
    if line is None:
        return None
    try:
        record = json.loads(line)
        body = {k: record[k] for k in ("format", "at", "chains")}
        chains = {str(k): (int(v[0]), str(v[1])) for k, v in body["chains"].items()}
    except (ValueError, KeyError, TypeError, IndexError):
        raise CheckpointError("the latest checkpoint is not readable") from None
    if body["format"] != FORMAT or not hmac.compare_digest(
        str(record.get("seal", "")), store.seal(body)
    ):
        raise CheckpointError(
            "the latest checkpoint's seal does not match (changed, or another key)"
        )
    return Checkpoint(at=str(body["at"]), chains=chains)


@dataclass(frozen=True)
class Gap:
    chain: str
    entry_id: int
    problem: str


def compare(
    session: Session, checkpoint: Checkpoint, *, removed: Collection[str] = ()
) -> Iterator[Gap]:
    """Where the database's chains fall short of `checkpoint`: a chain shorter than it was,
    or whose entry at the checkpointed position is not the one checkpointed. Chains named
    in `removed` (purged since) may be missing."""
    now = heads(session)
    ids = [entry_id for entry_id, _digest in checkpoint.chains.values()]
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), 1000):
        rows = session.exec(
            select(AuditEntry.id, AuditEntry.protocol_id, AuditEntry.hash).where(
                AuditEntry.id.in_(ids[start : start + 1000])
            )
        )
        found.update({i: (chain_name(p), digest) for i, p, digest in rows})
    for chain, (entry_id, digest) in sorted(checkpoint.chains.items()):
        head = now.get(chain)
        if head is None and chain in removed:
            continue
        if head is None or head[0] < entry_id:
            last = "no entry left" if head is None else f"its last entry is #{head[0]}"
            yield Gap(
                chain,
                entry_id,
                f"chain shorter than at the checkpoint of {checkpoint.at}: it ended at "
                f"#{entry_id}, {last}",
            )
        elif found.get(entry_id) != (chain, digest):
            yield Gap(
                chain,
                entry_id,
                f"not the entry checkpointed at {checkpoint.at} at the end of its chain "
                "(removed or changed)",
            )


class CheckpointRefused(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def write(
    session: Session, store: Store, *, removed: Collection[str] = (), force: bool = False
) -> Checkpoint:
    """Append the heads of every chain as a sealed line. Refused while the chains fall
    short of the latest checkpoint (else a removal would be made good by the next night's
    checkpoint), but for the chains in `removed`, unless `force` (once a person has looked)."""
    if not force:
        try:
            previous = latest(store)
        except CheckpointError as exc:
            raise CheckpointRefused([str(exc)]) from None
        if previous is not None:
            gaps = [
                f"chain {g.chain} #{g.entry_id}: {g.problem}"
                for g in compare(session, previous, removed=removed)
            ]
            if gaps:
                raise CheckpointRefused(gaps)
    checkpoint = Checkpoint(at=utcnow().isoformat(), chains=heads(session))
    body = checkpoint.body()
    line = canonical_json({**body, "seal": store.seal(body)}).encode() + b"\n"
    store.path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(store.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size:
            with store.path.open("rb") as handle:
                handle.seek(size - 1)
                if handle.read(1) != b"\n":  # a line cut short by a crash stays on its own
                    line = b"\n" + line
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    return checkpoint
