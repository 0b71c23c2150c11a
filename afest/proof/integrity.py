"""Integrity checks for `flask afest verify`: audit hash chains, signatures, checkpoints.

Reports every row changed or removed outside the application:
- an audit entry whose hash no longer matches its content, or whose link to the previous
  entry of its chain is broken (an entry before it changed or removed);
- a signature whose signed record no longer hashes to what was signed;
- a signature announced by its audit entry (`<kind>.sign`) but missing from the signature
  table, or there with another hash, and a signature that no audit entry announces;
- against the latest checkpoint written outside the database (afest.proof.checkpoints): a
  chain shorter than it was, or whose entry at the checkpointed position is another one
  (its last entries removed, which the chain alone cannot show); a checkpoint whose seal
  does not match.

What each engine guarantees. Rows of `auditentry` and `signature` are append-only through
database triggers; only `flask afest purge` deletes them, past their retention period,
through a purge window that a row in `purgewindow` alone does not open (the connection must
present the token of the purge's run: afest.models.retention).
- PostgreSQL: a role that was only granted writes on the tables can neither change nor
  delete these rows, nor open a purge window. The owner of the tables (the app's database
  user) or a superuser can do anything (disable the triggers, open a window by hand): what
  it changes or removes is reported here, but for the last entries of a chain written since
  the latest checkpoint, and a record with its audit entries and signatures removed whole
  after that checkpoint.
- SQLite: no roles. Through the app, a row inserted in `purgewindow` opens nothing; but any
  process that can write the database file can drop the triggers and change anything. The
  same is reported as on PostgreSQL, with the same limit: what was written after the latest
  checkpoint can be removed unseen.
Whoever holds both the checkpoint file and its key can rewrite history unseen: keep them
away from the database (another machine, an append-only volume).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlmodel import Session, select

from afest.core import storage
from afest.core.audit import entry_hash
from afest.models import (
    AuditEntry,
    Certificate,
    Evaluation,
    Protocol,
    Sequence,
    SequenceAttachment,
    Signature,
    SignedKind,
)
from afest.proof import checkpoints, signatures

SUBJECTS = {
    SignedKind.PROTOCOL: Protocol,
    SignedKind.SEQUENCE: Sequence,
    SignedKind.EVALUATION: Evaluation,
    SignedKind.CERTIFICATE: Certificate,
}
BATCH = 2000


@dataclass(frozen=True)
class Finding:
    kind: str  # "audit" | "signature" | "checkpoint" | "attachment"
    row_id: int | None
    protocol_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f" (protocol {self.protocol_id})" if self.protocol_id else ""
        row = f" #{self.row_id}" if self.row_id is not None else ""
        return f"{self.kind}{row}{where}: {self.problem}"


def _audit_rows(session: Session) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def check_audit_chains(session: Session) -> Iterator[Finding]:
    """Each entry hashes to its stored hash and points to the previous entry of its chain."""
    last_hash: dict[int | None, str] = {}
    for entry in _audit_rows(session):
        chain = entry.protocol_id
        expected_prev = last_hash.get(chain, "")
        if entry.prev_hash != expected_prev:
            yield Finding(
                "audit", entry.id, chain, "chain broken: an entry before it was changed or removed"
            )
        if entry.hash != entry_hash(entry):
            yield Finding("audit", entry.id, chain, "content changed after it was written")
        last_hash[chain] = entry.hash


def check_signatures(session: Session) -> Iterator[Finding]:
    """Every signature's record still hashes to the content that was signed."""
    for kind, model in SUBJECTS.items():
        last_id = 0
        while True:
            rows = session.exec(
                select(Signature)
                .where(Signature.subject_kind == kind, Signature.id > last_id)
                .order_by(Signature.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            last_id = rows[-1].id
            subjects = {
                s.id: s
                for s in session.exec(
                    select(model).where(model.id.in_({r.subject_id for r in rows}))
                )
            }
            hashes: dict[int, str] = {}
            for signature in rows:
                subject = subjects.get(signature.subject_id)
                if subject is None:
                    yield Finding("signature", signature.id, None, f"signed {kind} is missing")
                    continue
                if subject.id not in hashes:
                    hashes[subject.id] = signatures.content_hash(session, kind, subject)
                if hashes[subject.id] != signature.content_hash:
                    protocol_id = subject.id if kind == SignedKind.PROTOCOL else subject.protocol_id
                    yield Finding(
                        "signature",
                        signature.id,
                        protocol_id,
                        f"{kind} {subject.public_id} changed after it was signed",
                    )
            session.expunge_all()


def _value(value: object) -> str:
    return str(getattr(value, "value", value))


def check_signatures_announced(session: Session) -> Iterator[Finding]:
    """Every signature announced by the audit log (its `<kind>.sign` entry, written in the same
    transaction) is in the signature table with the announced hash, and every signature there
    was announced: a signature deleted, or inserted, behind the application is reported."""
    actions = [f"{kind}.sign" for kind in SUBJECTS]
    announced: dict[tuple[str, int, str], tuple[int, int | None, str]] = {}
    query = (
        select(
            AuditEntry.id,
            AuditEntry.subject_kind,
            AuditEntry.subject_id,
            AuditEntry.protocol_id,
            AuditEntry.after,
        )
        .where(AuditEntry.action.in_(actions))
        .order_by(AuditEntry.id)
    )
    for entry_id, kind, subject_id, protocol_id, after in session.exec(query):
        role = _value((after or {}).get("role"))
        announced[(kind, subject_id, role)] = (entry_id, protocol_id, (after or {}).get("hash"))
    present = session.exec(
        select(
            Signature.id,
            Signature.subject_kind,
            Signature.subject_id,
            Signature.signer_role,
            Signature.content_hash,
        ).order_by(Signature.id)
    )
    for signature_id, kind, subject_id, role, digest in present:
        key = (_value(kind), subject_id, _value(role))
        entry = announced.pop(key, None)
        if entry is None:
            yield Finding(
                "signature", signature_id, None, "no audit entry announces this signature"
            )
        elif entry[2] != digest:
            yield Finding(
                "signature",
                signature_id,
                entry[1],
                f"hash differs from the one announced by audit #{entry[0]}",
            )
    for (kind, subject_id, role), (entry_id, protocol_id, _digest) in announced.items():
        yield Finding(
            "audit",
            entry_id,
            protocol_id,
            f"announces a signature of {kind} #{subject_id} as {role}, missing from the "
            "signature table",
        )


def check_checkpoint(session: Session, store: checkpoints.Store) -> Iterator[Finding]:
    """The chains reach at least as far as the latest checkpoint written outside the
    database, through the entries it names (nothing to compare before the first one)."""
    try:
        checkpoint = checkpoints.latest(store)
    except checkpoints.CheckpointError as exc:
        yield Finding("checkpoint", None, None, f"{exc} ({store.path})")
        return
    if checkpoint is None:
        return
    for gap in checkpoints.compare(session, checkpoint):
        protocol_id = None if gap.chain == checkpoints.OUTSIDE else int(gap.chain)
        yield Finding("audit", gap.entry_id, protocol_id, gap.problem)


def check_attachments(session: Session, files: storage.Store) -> Iterator[Finding]:
    """Every attached file is kept, with the bytes its rows' SHA-256 (signed with their
    sequence) names: a file replaced or removed outside afest shows here."""
    rows = session.exec(
        select(SequenceAttachment.sha256, SequenceAttachment.id, Sequence.protocol_id)
        .join(Sequence, Sequence.id == SequenceAttachment.sequence_id)
        .order_by(SequenceAttachment.sha256, SequenceAttachment.id)
    )
    checked: dict[str, str | None] = {}  # SHA-256 → the problem of its file, if any
    for digest, row_id, protocol_id in rows:
        if digest not in checked:
            try:
                found = hashlib.sha256(files.get(digest)).hexdigest()
                checked[digest] = None if found == digest else "attached file changed"
            except storage.MissingFile:
                checked[digest] = "attached file is missing"
        if checked[digest]:
            yield Finding("attachment", row_id, protocol_id, checked[digest])


def verify_all(
    session: Session,
    store: checkpoints.Store | None = None,
    files: storage.Store | None = None,
) -> list[Finding]:
    """Every check; against the latest checkpoint too when `store` is given, and the
    attached files when `files` is."""
    return [
        *check_audit_chains(session),
        *check_signatures(session),
        *check_signatures_announced(session),
        *(check_checkpoint(session, store) if store is not None else ()),
        *(check_attachments(session, files) if files is not None else ()),
    ]
