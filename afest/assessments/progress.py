"""A learner's progress across their protocols: per block, per competence, over time.

Everything the "Mon parcours" page shows comes from a fixed number of queries, whatever the
number of sequences: per-competence levels and the sequence totals are computed by the
database (GROUP BY), and the timeline is a bounded page of the most recent sequences.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from functools import cache
from types import SimpleNamespace

from sqlalchemy import and_, bindparam, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.models import (
    AssessmentSource,
    Competence,
    CompetenceAssessment,
    Level,
    PlannedSequence,
    Protocol,
    ProtocolCompetence,
    ProtocolStatus,
    Sequence,
    SequenceCompetence,
    SequenceKind,
    Signature,
    SignedKind,
    SignerRole,
    User,
    VaePathway,
)

from . import trajectory

TIMELINE_SIZE = 20
PLANNED_SIZE = 5

# The current version of a sequence (no amendment points to it). Same condition as
# sequences.not_amended(), built once: aliasing the table on every call costs more than the
# queries themselves on this page.
_NEWER = aliased(Sequence, name="newer_version")
_CURRENT = ~exists().where(_NEWER.amends_id == Sequence.id)


def not_amended():
    return _CURRENT


@dataclass(frozen=True)
class LevelInfo:
    rank: int
    label: str
    acquired: bool


@dataclass
class CompetenceProgress:
    competence_id: int
    code: str
    title: str
    initial: LevelInfo | None
    current: LevelInfo | None
    top_rank: int  # highest rank of the référentiel's scale

    @property
    def acquired(self) -> bool:
        return bool(self.current and self.current.acquired)


@dataclass
class BlockProgress:
    block_id: int
    code: str
    title: str
    competences: list[CompetenceProgress] = field(default_factory=list)
    moments: list[trajectory.Moment] = field(default_factory=list)  # in time order

    @property
    def targeted(self) -> int:
        return len(self.competences)

    @property
    def chart(self) -> trajectory.StepChart:
        """The acquired count at each moment, as a step line from 0 to all targeted."""
        return trajectory.step_chart([(m.on, m.acquired) for m in self.moments], self.targeted)

    @property
    def acquired(self) -> int:
        return sum(1 for c in self.competences if c.acquired)


@dataclass
class TimelineItem:
    sequence: Sequence
    protocol_title: str
    tutor_name: str
    competence_codes: list[str]
    signed_roles: set[str]

    @property
    def awaiting_me(self) -> bool:
        return SignerRole.TUTOR in self.signed_roles and SignerRole.LEARNER not in self.signed_roles


@dataclass
class Totals:
    situations: int = 0
    reflections: int = 0
    minutes: int = 0

    @property
    def sequences(self) -> int:
        return self.situations + self.reflections


@dataclass
class Progress:
    learner: User
    protocols: list[Protocol]
    blocks: list[BlockProgress]
    totals: Totals
    timeline: list[TimelineItem]
    pending_sequences: list[tuple[Sequence, Protocol]]
    pending_protocols: list[Protocol]
    planned: list[tuple[PlannedSequence, str]]  # (planned sequence, protocol title)
    next_step: str
    pathways: list[VaePathway]


def _learner_protocols():
    """SQL: ids of the learner's protocols that were at least put up for signature (the
    learner's id is bound at execution as `learner_id`)."""
    return select(Protocol.id).where(
        Protocol.learner_id == bindparam("learner_id"), Protocol.status != ProtocolStatus.DRAFT
    )


def _signed_by(role: SignerRole):
    return exists().where(
        Signature.subject_kind == SignedKind.SEQUENCE,
        Signature.subject_id == Sequence.id,
        Signature.signer_role == role,
    )


_FULLY_SIGNED = and_(_signed_by(SignerRole.TUTOR), _signed_by(SignerRole.LEARNER))
_AWAITING_LEARNER = and_(_signed_by(SignerRole.TUTOR), ~_signed_by(SignerRole.LEARNER))


def fully_signed():
    """SQL condition: the sequence carries both the tutor's and the learner's signatures."""
    return _FULLY_SIGNED


def awaiting_countersignature():
    """SQL condition: signed by the tutor, not yet by the learner."""
    return _AWAITING_LEARNER


def _levels_query(*, initial: bool):
    pick = func.min if initial else func.max
    chosen = select(
        CompetenceAssessment.competence_id, pick(CompetenceAssessment.id).label("pick_id")
    ).where(CompetenceAssessment.protocol_id.in_(_learner_protocols()))
    if initial:
        chosen = chosen.where(CompetenceAssessment.source == AssessmentSource.INITIAL)
    chosen = chosen.group_by(CompetenceAssessment.competence_id).subquery()
    return (
        select(CompetenceAssessment.competence_id, Level.rank, Level.label, Level.acquired)
        .join(chosen, chosen.c.pick_id == CompetenceAssessment.id)
        .join(Level, Level.id == CompetenceAssessment.level_id)
    )


@cache
def _queries() -> SimpleNamespace:
    """The page's statements, built once with bound parameters: building SQLAlchemy
    constructs costs as much as running these small queries, so it is not redone per request."""
    mine = _learner_protocols()
    top = aliased(Level)
    top_rank = (
        select(func.max(top.rank))
        .where(top.referential_id == Protocol.referential_id)
        .scalar_subquery()
    )
    return SimpleNamespace(
        protocols=select(Protocol)
        .where(Protocol.id.in_(mine))
        .order_by(Protocol.planned_start, Protocol.id),
        initial=_levels_query(initial=True),
        current=_levels_query(initial=False),
        blocks=select(ProtocolCompetence, top_rank)
        .join(Protocol, Protocol.id == ProtocolCompetence.protocol_id)
        .where(ProtocolCompetence.protocol_id.in_(mine))
        .order_by(Protocol.planned_start, Protocol.id, ProtocolCompetence.position),
        totals=select(
            Sequence.kind,
            func.count(Sequence.id),
            func.coalesce(func.sum(Sequence.duration_minutes), 0),
        )
        .where(Sequence.protocol_id.in_(mine), not_amended())
        .group_by(Sequence.kind),
        timeline=select(Sequence, Protocol.title, User.full_name)
        .join(Protocol, Protocol.id == Sequence.protocol_id)
        .join(User, User.id == Sequence.created_by_id)
        .where(Sequence.protocol_id.in_(mine), not_amended())
        .order_by(Sequence.occurred_at.desc(), Sequence.id.desc()),
        codes=select(SequenceCompetence.sequence_id, Competence.code)
        .join(Competence, Competence.id == SequenceCompetence.competence_id)
        .where(SequenceCompetence.sequence_id.in_(bindparam("ids", expanding=True)))
        .order_by(Competence.code),
        roles=select(Signature.subject_id, Signature.signer_role).where(
            Signature.subject_kind == SignedKind.SEQUENCE,
            Signature.subject_id.in_(bindparam("ids", expanding=True)),
        ),
        pending=select(Sequence, Protocol)
        .join(Protocol, Protocol.id == Sequence.protocol_id)
        .where(Sequence.protocol_id.in_(mine), not_amended(), awaiting_countersignature())
        .order_by(Sequence.occurred_at, Sequence.id),
        pending_protocols=select(Protocol).where(
            Protocol.learner_id == bindparam("learner_id"),
            Protocol.status == ProtocolStatus.AWAITING_SIGNATURES,
            ~exists().where(
                Signature.subject_kind == SignedKind.PROTOCOL,
                Signature.subject_id == Protocol.id,
                Signature.signer_role == SignerRole.LEARNER,
            ),
        ),
        planned=select(PlannedSequence, Protocol.title)
        .join(Protocol, Protocol.id == PlannedSequence.protocol_id)
        .where(
            Protocol.learner_id == bindparam("learner_id"),
            Protocol.status.in_([ProtocolStatus.IN_PROGRESS, ProtocolStatus.AWAITING_SIGNATURES]),
            PlannedSequence.planned_on >= bindparam("today"),
        )
        .order_by(PlannedSequence.planned_on, PlannedSequence.position)
        .limit(PLANNED_SIZE),
        pathways=select(VaePathway)
        .where(VaePathway.learner_id == bindparam("learner_id"))
        .order_by(VaePathway.id),
    )


@cache
def _limited(statement, size: int):
    return statement.limit(size)


def competence_levels(
    session: Session, learner_id: int
) -> tuple[dict[int, LevelInfo], dict[int, LevelInfo]]:
    """Per competence, across the learner's protocols: the first initial positioning and the
    latest level assessed (one query each)."""
    q, params = _queries(), {"learner_id": learner_id}
    return tuple(
        {
            cid: LevelInfo(rank, label, acq)
            for cid, rank, label, acq in session.exec(stmt, params=params)
        }
        for stmt in (q.initial, q.current)
    )


def _blocks(session: Session, learner_id: int, initial: dict, current: dict) -> list[BlockProgress]:
    rows = session.exec(_queries().blocks, params={"learner_id": learner_id})
    blocks: dict[int, BlockProgress] = {}
    seen: set[int] = set()
    for pc, max_rank in rows:
        block = blocks.setdefault(
            pc.block_id, BlockProgress(pc.block_id, pc.block_code, pc.block_title)
        )
        if pc.competence_id in seen:  # targeted again by a later protocol
            continue
        seen.add(pc.competence_id)
        block.competences.append(
            CompetenceProgress(
                competence_id=pc.competence_id,
                code=pc.competence_code,
                title=pc.competence_title,
                initial=initial.get(pc.competence_id),
                current=current.get(pc.competence_id),
                top_rank=max_rank or 0,
            )
        )
    return sorted(blocks.values(), key=lambda b: b.code)


def _totals(session: Session, learner_id: int) -> Totals:
    totals = Totals()
    for kind, count, minutes in session.exec(_queries().totals, params={"learner_id": learner_id}):
        if kind == SequenceKind.SITUATION:
            totals.situations = count
        else:
            totals.reflections = count
        totals.minutes += int(minutes)
    return totals


def _timeline(session: Session, learner_id: int, size: int) -> list[TimelineItem]:
    q = _queries()
    rows = list(session.exec(_limited(q.timeline, size), params={"learner_id": learner_id}))
    ids = [seq.id for seq, _t, _n in rows]
    codes: dict[int, list[str]] = defaultdict(list)
    roles: dict[int, set[str]] = defaultdict(set)
    if ids:
        for seq_id, code in session.exec(q.codes, params={"ids": ids}):
            codes[seq_id].append(code)
        for seq_id, role in session.exec(q.roles, params={"ids": ids}):
            roles[seq_id].add(str(role))
    return [
        TimelineItem(seq, title, name, codes[seq.id], roles[seq.id]) for seq, title, name in rows
    ]


def progress(
    session: Session,
    learner: User,
    *,
    today: date,
    timeline_size: int = TIMELINE_SIZE,
    zone: tzinfo = UTC,
) -> Progress:
    """Everything "Mon parcours" shows, in a fixed number of queries (a sequence's day for the
    blocks' moments is read in `zone`)."""
    q, params = _queries(), {"learner_id": learner.id}
    initial, current = competence_levels(session, learner.id)
    blocks = _blocks(session, learner.id, initial, current)
    moments = trajectory.block_moments(session, learner.id, zone=zone)
    for block in blocks:
        block.moments = moments.get(block.block_id, [])
    timeline = _timeline(session, learner.id, timeline_size)
    next_step = next(
        (
            item.sequence.next_step
            for item in timeline
            if item.sequence.kind == SequenceKind.REFLECTION and item.sequence.next_step
        ),
        "",
    )
    return Progress(
        learner=learner,
        protocols=list(session.exec(q.protocols, params=params)),
        blocks=blocks,
        totals=_totals(session, learner.id),
        timeline=timeline,
        pending_sequences=list(session.exec(q.pending, params=params)),
        pending_protocols=list(session.exec(q.pending_protocols, params=params)),
        planned=list(session.exec(q.planned, params={**params, "today": today})),
        next_step=next_step,
        pathways=list(session.exec(q.pathways, params=params)),
    )
