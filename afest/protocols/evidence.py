"""What the four conditions of a protocol are checked on (afest.protocols.compliance), read
for many protocols at once in a fixed number of queries: the first tutor designation, the
current evaluations and how many of them the tutor signed, the current sequences with the
current reflections that analysed them and who signed them, and the protocol's pauses. A
"current" sequence or evaluation is one that no amendment points to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.models import (
    Evaluation,
    ProtocolPause,
    ProtocolTutor,
    ReflectionSituation,
    Sequence,
    SequenceKind,
    Signature,
    SignedKind,
    SignerRole,
)


@dataclass
class SequenceFacts:
    """A current sequence as the checks see it: its reflections (when, minutes), its signers."""

    id: int
    public_id: str
    kind: SequenceKind
    occurred_at: datetime
    duration_minutes: int
    reflections: list[tuple[datetime, int]] = field(default_factory=list)  # (when, minutes)
    signed: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class EvaluationFacts:
    """A protocol's current evaluations: how many, how many the tutor signed, and the first
    one still without the tutor's signature (its public id), if any."""

    count: int
    signed: int
    unsigned_id: str | None


@dataclass(frozen=True)
class PauseFacts:
    """A pause as the checks see it (afest.protocols.pauses.PauseSpan, and what it says)."""

    paused_from: datetime
    resumed_at: datetime | None
    planned_until: date | None
    reason: str


def _current():
    newer = aliased(Sequence)
    return ~exists().where(newer.amends_id == Sequence.id)


def _evaluations(session: Session, ids: list[int]) -> dict[int, EvaluationFacts]:
    newer = aliased(Evaluation)
    tutor_signed = exists().where(
        Signature.subject_kind == SignedKind.EVALUATION,
        Signature.subject_id == Evaluation.id,
        Signature.signer_role == SignerRole.TUTOR,
    )
    rows = session.exec(
        select(
            Evaluation.protocol_id,
            func.count(Evaluation.id),
            func.sum(case((tutor_signed, 1), else_=0)),
            func.min(case((tutor_signed, None), else_=Evaluation.public_id)),
        )
        .where(Evaluation.protocol_id.in_(ids), ~exists().where(newer.amends_id == Evaluation.id))
        .group_by(Evaluation.protocol_id)
    )
    return {pid: EvaluationFacts(n, int(signed or 0), first) for pid, n, signed, first in rows}


def gather(
    session: Session, ids: list[int]
) -> tuple[
    dict[int, datetime],
    dict[int, EvaluationFacts],
    dict[int, list[SequenceFacts]],
    dict[int, list[PauseFacts]],
]:
    """Everything the checks need for these protocols, in six queries: the first tutor
    designation of each, its current evaluations (EvaluationFacts), its current sequences in
    order, its pauses in order."""
    designated = dict(
        session.exec(
            select(ProtocolTutor.protocol_id, func.min(ProtocolTutor.designated_at))
            .where(ProtocolTutor.protocol_id.in_(ids))
            .group_by(ProtocolTutor.protocol_id)
        ).all()
    )
    evaluations = _evaluations(session, ids)
    seqs: dict[int, SequenceFacts] = {}
    by_protocol: dict[int, list[SequenceFacts]] = defaultdict(list)
    for row in session.exec(
        select(
            Sequence.id,
            Sequence.public_id,
            Sequence.protocol_id,
            Sequence.kind,
            Sequence.occurred_at,
            Sequence.duration_minutes,
        )
        .where(Sequence.protocol_id.in_(ids), _current())
        .order_by(Sequence.occurred_at, Sequence.id)
    ):
        seq = SequenceFacts(row.id, row.public_id, row.kind, row.occurred_at, row.duration_minutes)
        seqs[row.id] = seq
        by_protocol[row.protocol_id].append(seq)
    reflection = aliased(Sequence)
    for situation_id, occurred_at, minutes in session.exec(
        select(
            ReflectionSituation.situation_id, reflection.occurred_at, reflection.duration_minutes
        )
        .join(reflection, reflection.id == ReflectionSituation.reflection_id)
        .where(
            reflection.protocol_id.in_(ids),
            ~exists().where(aliased(Sequence).amends_id == reflection.id),
        )
        .order_by(reflection.occurred_at)
    ):
        if situation_id in seqs:
            seqs[situation_id].reflections.append((occurred_at, minutes))
    for subject_id, role in session.exec(
        select(Signature.subject_id, Signature.signer_role)
        .join(Sequence, Sequence.id == Signature.subject_id)
        .where(Signature.subject_kind == SignedKind.SEQUENCE, Sequence.protocol_id.in_(ids))
    ):
        if subject_id in seqs:  # signatures of amended versions are not counted
            seqs[subject_id].signed.add(str(role))
    return designated, evaluations, by_protocol, _pauses(session, ids)


def _pauses(session: Session, ids: list[int]) -> dict[int, list[PauseFacts]]:
    pauses: dict[int, list[PauseFacts]] = defaultdict(list)
    for row in session.exec(
        select(
            ProtocolPause.protocol_id,
            ProtocolPause.paused_from,
            ProtocolPause.resumed_at,
            ProtocolPause.planned_until,
            ProtocolPause.reason,
        )
        .where(ProtocolPause.protocol_id.in_(ids))
        .order_by(ProtocolPause.paused_from, ProtocolPause.id)
    ):
        pauses[row.protocol_id].append(PauseFacts(*row[1:]))
    return pauses
