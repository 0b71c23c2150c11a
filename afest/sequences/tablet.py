"""Read models of the tutor's tablet: "Mes apprenant·es", one learner's page, one sequence.

Counts are computed in SQL (GROUP BY over the protocols shown), never by loading sequences.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, exists, func, or_
from sqlalchemy.orm import aliased, selectinload
from sqlmodel import Session, select

from afest.models import (
    Level,
    PlannedSequence,
    Protocol,
    ProtocolCompetence,
    ProtocolStatus,
    ProtocolTutor,
    ReflectionSituation,
    Sequence,
    SequenceCompetence,
    SequenceKind,
    Signature,
    SignedKind,
    SignerRole,
)
from afest.protocols.queries import latest_levels
from afest.sequences.operations import not_amended


def _signed_by(role: SignerRole):
    return exists().where(
        Signature.subject_kind == SignedKind.SEQUENCE,
        Signature.subject_id == Sequence.id,
        Signature.signer_role == role,
    )


def _analysed():
    """SQL condition: a current reflection analyses this situation (or the one it corrects)."""
    reflection = aliased(Sequence)
    newer = aliased(Sequence)
    return exists().where(
        ReflectionSituation.reflection_id == reflection.id,
        or_(
            ReflectionSituation.situation_id == Sequence.id,
            and_(
                Sequence.amends_id.is_not(None),
                ReflectionSituation.situation_id == Sequence.amends_id,
            ),
        ),
        ~exists().where(newer.amends_id == reflection.id),
    )


def unanalysed_condition():
    return and_(Sequence.kind == SequenceKind.SITUATION, not_amended(), ~_analysed())


@dataclass
class Owed:
    unanalysed: int = 0
    unsigned: int = 0
    awaiting_learner: int = 0

    @property
    def any(self) -> bool:
        return bool(self.unanalysed or self.unsigned or self.awaiting_learner)


@dataclass
class LearnerLine:
    protocol: Protocol
    next_planned: PlannedSequence | None = None
    last_sequence: Sequence | None = None
    owed: Owed = field(default_factory=Owed)
    overdue: bool = False


def tutor_learners(session: Session, tutor_id: int, *, today: date) -> list[LearnerLine]:
    """The tutor's learners (protocols they are designated for, signed or in progress), each with
    the next planned sequence, the last logged one and what is owed — in a fixed number of
    queries."""
    designated = select(ProtocolTutor.protocol_id).where(
        ProtocolTutor.tutor_id == tutor_id, ProtocolTutor.ended_at.is_(None)
    )
    protocols = list(
        session.exec(
            select(Protocol)
            .where(
                Protocol.id.in_(designated),
                Protocol.status.in_(
                    [ProtocolStatus.IN_PROGRESS, ProtocolStatus.AWAITING_SIGNATURES]
                ),
            )
            .options(selectinload(Protocol.learner), selectinload(Protocol.open_pause))
            .order_by(Protocol.status.desc(), Protocol.planned_start, Protocol.id)
        )
    )
    lines = {p.id: LearnerLine(p) for p in protocols}
    if not lines:
        return []
    ids = list(lines)

    plans: dict[int, list[PlannedSequence]] = {}
    for plan in session.exec(
        select(PlannedSequence)
        .where(PlannedSequence.protocol_id.in_(ids))
        .order_by(PlannedSequence.protocol_id, PlannedSequence.position, PlannedSequence.planned_on)
    ):
        plans.setdefault(plan.protocol_id, []).append(plan)

    last = (
        select(Sequence.protocol_id, func.max(Sequence.occurred_at).label("at"))
        .where(Sequence.protocol_id.in_(ids), not_amended())
        .group_by(Sequence.protocol_id)
        .subquery()
    )
    for seq in session.exec(
        select(Sequence)
        .join(
            last,
            and_(last.c.protocol_id == Sequence.protocol_id, last.c.at == Sequence.occurred_at),
        )
        .where(not_amended())
        .order_by(Sequence.id)
    ):
        lines[seq.protocol_id].last_sequence = seq

    counts = select(
        Sequence.protocol_id,
        func.count(),
        func.count().filter(unanalysed_condition()),
        func.count().filter(~_signed_by(SignerRole.TUTOR)),
        func.count().filter(_signed_by(SignerRole.TUTOR), ~_signed_by(SignerRole.LEARNER)),
    ).where(Sequence.protocol_id.in_(ids), not_amended())
    done: dict[int, int] = {}
    for protocol_id, total, unanalysed, unsigned, awaiting in session.exec(
        counts.group_by(Sequence.protocol_id)
    ):
        done[protocol_id] = total
        lines[protocol_id].owed = Owed(unanalysed, unsigned, awaiting)
    for protocol_id, line in lines.items():
        # The plan is followed in order: after n sequences logged, the next is the (n+1)-th.
        planned = plans.get(protocol_id, [])
        n = done.get(protocol_id, 0)
        line.next_planned = planned[n] if n < len(planned) else None
        line.overdue = line.next_planned is not None and line.next_planned.planned_on < today
    return list(lines.values())


@dataclass
class BlockChoices:
    code: str
    title: str
    competences: list[ProtocolCompetence] = field(default_factory=list)


def scope_by_block(session: Session, protocol_id: int) -> list[BlockChoices]:
    blocks: dict[str, BlockChoices] = {}
    for pc in session.exec(
        select(ProtocolCompetence)
        .where(ProtocolCompetence.protocol_id == protocol_id)
        .order_by(ProtocolCompetence.position, ProtocolCompetence.id)
    ):
        blocks.setdefault(pc.block_code, BlockChoices(pc.block_code, pc.block_title))
        blocks[pc.block_code].competences.append(pc)
    return list(blocks.values())


RECENT_SITUATIONS = 3  # the situations whose competences a new one usually works on again
FOLD_FROM = 8  # a protocol targeting more competences than this shows its focus first


def focus_of(session: Session, protocol_id: int, blocks: list[BlockChoices]) -> set[int]:
    """The competences of the protocol's current focus, shown first on a new situation, the
    others folded: those of its last RECENT_SITUATIONS situations (what she is working on);
    with none yet, those not acquired so far. A protocol of FOLD_FROM competences or fewer
    shows them all (empty set: nothing folded). Two queries."""
    scope = [c.competence_id for b in blocks for c in b.competences]
    if len(scope) <= FOLD_FROM:
        return set()
    recent = (
        select(Sequence.id)
        .where(
            Sequence.protocol_id == protocol_id,
            Sequence.kind == SequenceKind.SITUATION,
            not_amended(),
        )
        .order_by(Sequence.occurred_at.desc(), Sequence.id.desc())
        .limit(RECENT_SITUATIONS)
        .subquery()
    )
    worked = set(
        session.exec(
            select(SequenceCompetence.competence_id).where(
                SequenceCompetence.sequence_id.in_(select(recent.c.id))
            )
        )
    )
    if worked:
        return worked & set(scope)
    levels = current_levels(session, protocol_id)
    return {c for c in scope if not (c in levels and levels[c].acquired)} or set()


def level_scale(session: Session, referential_id: int) -> list[Level]:
    return list(
        session.exec(
            select(Level).where(Level.referential_id == referential_id).order_by(Level.rank)
        )
    )


def situations(session: Session, protocol_id: int) -> tuple[list[Sequence], set[int]]:
    """The protocol's current situations (newest first) and the ids of those not yet analysed."""
    rows = session.exec(
        select(Sequence, unanalysed_condition())
        .where(
            Sequence.protocol_id == protocol_id,
            Sequence.kind == SequenceKind.SITUATION,
            not_amended(),
        )
        .order_by(Sequence.occurred_at.desc(), Sequence.id.desc())
        .limit(50)
    ).all()
    return [s for s, _ in rows], {s.id for s, open_ in rows if open_}


@dataclass
class SequenceLine:
    sequence: Sequence
    tutor_signed: bool
    learner_signed: bool


def recent_sequences(session: Session, protocol_id: int, *, limit: int = 20) -> list[SequenceLine]:
    rows = session.exec(
        select(Sequence, _signed_by(SignerRole.TUTOR), _signed_by(SignerRole.LEARNER))
        .where(Sequence.protocol_id == protocol_id, not_amended())
        .order_by(Sequence.occurred_at.desc(), Sequence.id.desc())
        .limit(limit)
    ).all()
    return [SequenceLine(s, bool(t), bool(learner)) for s, t, learner in rows]


def current_levels(session: Session, protocol_id: int) -> dict[int, Level]:
    return latest_levels(session, protocol_id, initial=False)


def worked_competences(session: Session, protocol_id: int, situation_ids) -> set[int]:
    """Competences targeted by these situations of the protocol (the ones a reflection rates)."""
    ids = [i for i in situation_ids or [] if isinstance(i, int)]
    if not ids:
        return set()
    return set(
        session.exec(
            select(SequenceCompetence.competence_id)
            .join(Sequence, Sequence.id == SequenceCompetence.sequence_id)
            .where(Sequence.id.in_(ids), Sequence.protocol_id == protocol_id)
        )
    )


def level_groups(
    session: Session,
    protocol: Protocol,
    *,
    chosen: Mapping[int, int],
    situation_ids: Iterable[int] | None,
) -> dict:
    """What a reflection's level groups show: the protocol's competences by block, its level
    scale, the levels chosen, the competences the chosen situations worked on (shown first)."""
    return {
        "blocks": scope_by_block(session, protocol.id),
        "scale": level_scale(session, protocol.referential_id),
        "chosen": chosen,
        "worked": worked_competences(session, protocol.id, situation_ids),
    }
