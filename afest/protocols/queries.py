"""Read models of a protocol: scope by block, current levels, sequences and signatures, its
pauses."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, or_
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlmodel import Session, select

from afest.models import (
    CompetenceAssessment,
    Evaluation,
    Level,
    Protocol,
    ProtocolCompetence,
    ProtocolPause,
    ProtocolTutor,
    Sequence,
    Signature,
    SignedKind,
    User,
)
from afest.sequences.operations import not_amended


def with_parents() -> tuple:
    """Loader options of a protocol shown whole: its learner, structure and référentiel in
    the same statement, its tutors with their accounts in a second one."""
    return (
        joinedload(Protocol.learner, innerjoin=True),
        joinedload(Protocol.structure, innerjoin=True),
        joinedload(Protocol.referential, innerjoin=True),
        selectinload(Protocol.tutors).joinedload(ProtocolTutor.tutor, innerjoin=True),
    )


@dataclass
class BlockView:
    code: str
    title: str
    competences: list[ProtocolCompetence] = field(default_factory=list)


@dataclass
class ProtocolView:
    protocol: Protocol
    blocks: list[BlockView]
    initial: dict[int, Level]
    current: dict[int, Level]
    sequences: list[Sequence]
    evaluations: list[Evaluation]
    signatures: dict[tuple[str, int], list[Signature]]
    minutes_done: int

    def signed_roles(self, kind: SignedKind, subject_id: int) -> set[str]:
        return {str(s.signer_role) for s in self.signatures.get((str(kind), subject_id), [])}


def latest_levels(session: Session, protocol_id: int, *, initial: bool) -> dict[int, Level]:
    """Level per competence: at the initial positioning, or the latest assessed."""
    latest = select(
        CompetenceAssessment.competence_id, func.max(CompetenceAssessment.id).label("last_id")
    ).where(CompetenceAssessment.protocol_id == protocol_id)
    if initial:
        latest = latest.where(CompetenceAssessment.source == "initial")
    latest = latest.group_by(CompetenceAssessment.competence_id).subquery()
    rows = session.exec(
        select(CompetenceAssessment.competence_id, Level)
        .join(latest, latest.c.last_id == CompetenceAssessment.id)
        .join(Level, Level.id == CompetenceAssessment.level_id)
    )
    return dict(rows.all())


def protocol_view(session: Session, protocol: Protocol) -> ProtocolView:
    """Everything the protocol page shows, in a fixed number of queries."""
    blocks: dict[str, BlockView] = {}
    for pc in session.exec(
        select(ProtocolCompetence)
        .where(ProtocolCompetence.protocol_id == protocol.id)
        .order_by(ProtocolCompetence.position)
    ):
        blocks.setdefault(
            pc.block_code, BlockView(pc.block_code, pc.block_title)
        ).competences.append(pc)
    seqs = list(
        session.exec(
            select(Sequence)
            .where(Sequence.protocol_id == protocol.id, not_amended())
            .order_by(Sequence.occurred_at, Sequence.id)
        )
    )
    evals = list(
        session.exec(
            select(Evaluation)
            .where(Evaluation.protocol_id == protocol.id)
            .order_by(Evaluation.evaluated_on, Evaluation.id)
        )
    )
    subject_ids = {
        SignedKind.SEQUENCE: [s.id for s in seqs],
        SignedKind.EVALUATION: [e.id for e in evals],
        SignedKind.PROTOCOL: [protocol.id],
    }
    sigs: dict[tuple[str, int], list[Signature]] = defaultdict(list)
    wanted = [
        (Signature.subject_kind == kind) & Signature.subject_id.in_(ids)
        for kind, ids in subject_ids.items()
        if ids
    ]
    for sig in session.exec(select(Signature).where(or_(*wanted)).order_by(Signature.signed_at)):
        sigs[(str(sig.subject_kind), sig.subject_id)].append(sig)
    return ProtocolView(
        protocol=protocol,
        blocks=list(blocks.values()),
        initial=latest_levels(session, protocol.id, initial=True),
        current=latest_levels(session, protocol.id, initial=False),
        sequences=seqs,
        evaluations=evals,
        signatures=dict(sigs),
        minutes_done=sum(s.duration_minutes for s in seqs),
    )


@dataclass(frozen=True)
class PauseLine:
    pause: ProtocolPause
    paused_by: str
    resumed_by: str | None


def pause_history(session: Session, protocol_id: int) -> list[PauseLine]:
    """The protocol's pauses, latest first, with who paused and who resumed (one query)."""
    creator, resumer = aliased(User), aliased(User)
    rows = session.exec(
        select(ProtocolPause, creator.full_name, resumer.full_name)
        .join(creator, creator.id == ProtocolPause.created_by_id)
        .outerjoin(resumer, resumer.id == ProtocolPause.resumed_by_id)
        .where(ProtocolPause.protocol_id == protocol_id)
        .order_by(ProtocolPause.paused_from.desc(), ProtocolPause.id.desc())
    )
    return [PauseLine(*row) for row in rows]
