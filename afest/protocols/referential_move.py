"""Moving a protocol to a newer version of its référentiel.

What the protocol records is carried over where the competence codes match (in the same
block first, else in the one block of the new version that holds the code): the competences
it targets (snapshot taken again from the new version), the levels assessed (mapped by the
rank of the level on the scale) and the competences of its sequences. What cannot be carried
is said before anything is written: a target without evidence is dropped (and said), evidence
that has nowhere to go stops the move.

Signed records are never altered: a protocol, sequence or evaluation's signature holds a hash
of content that names the référentiel and the competences, so a protocol with any signature
stays on its version (its new entries keep targeting that version; the move is for drafts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, update
from sqlmodel import Session, select

from afest.core import audit
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    Competence,
    CompetenceAssessment,
    CompetenceBlock,
    Evaluation,
    Level,
    Protocol,
    ProtocolCompetence,
    Referential,
    Sequence,
    SequenceCompetence,
    Signature,
    SignedKind,
)


@dataclass
class Move:
    """What moving a protocol does: competence ids old → new, and what cannot be carried."""

    protocol: Protocol
    target: Referential
    competences: dict[int, int] = field(default_factory=dict)
    levels: dict[int, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # targets without evidence, not carried
    stuck: list[str] = field(default_factory=list)  # evidence with nowhere to go
    signed: bool = False

    @property
    def possible(self) -> bool:
        return not self.signed and not self.stuck


def _signed(session: Session, protocol: Protocol) -> bool:
    sequences = select(Sequence.id).where(Sequence.protocol_id == protocol.id)
    evaluations = select(Evaluation.id).where(Evaluation.protocol_id == protocol.id)
    return (
        session.exec(
            select(Signature.id)
            .where(
                or_(
                    (Signature.subject_kind == SignedKind.PROTOCOL)
                    & (Signature.subject_id == protocol.id),
                    (Signature.subject_kind == SignedKind.SEQUENCE)
                    & Signature.subject_id.in_(sequences),
                    (Signature.subject_kind == SignedKind.EVALUATION)
                    & Signature.subject_id.in_(evaluations),
                )
            )
            .limit(1)
        ).first()
        is not None
    )


def _codes(session: Session, referential_id: int) -> list[tuple[int, str, str]]:
    """(competence id, block code, competence code) of a référentiel."""
    return list(
        session.exec(
            select(Competence.id, CompetenceBlock.code, Competence.code)
            .join(CompetenceBlock, CompetenceBlock.id == Competence.block_id)
            .where(CompetenceBlock.referential_id == referential_id)
        )
    )


def _used(session: Session, protocol: Protocol) -> tuple[set[int], set[int]]:
    """The competences the protocol targets, and those its evidence names."""
    targeted = set(
        session.exec(
            select(ProtocolCompetence.competence_id).where(
                ProtocolCompetence.protocol_id == protocol.id
            )
        )
    )
    assessed = set(
        session.exec(
            select(CompetenceAssessment.competence_id).where(
                CompetenceAssessment.protocol_id == protocol.id
            )
        )
    )
    sequenced = set(
        session.exec(
            select(SequenceCompetence.competence_id)
            .join(Sequence, Sequence.id == SequenceCompetence.sequence_id)
            .where(Sequence.protocol_id == protocol.id)
        )
    )
    return targeted, assessed | sequenced


def plan_move(session: Session, protocol: Protocol, target: Referential) -> Move:
    """What moving `protocol` to `target` would carry, drop, or be stopped by."""
    source = session.get(Referential, protocol.referential_id)
    if target.code != source.code or target.version <= source.version:
        raise ServiceError(_l("Choisissez une version plus récente du même référentiel."))
    move = Move(protocol, target, signed=_signed(session, protocol))
    new = _codes(session, target.id)
    by_pair = {(b, c): cid for cid, b, c in new}
    by_code: dict[str, list[int]] = {}
    for cid, _b, c in new:
        by_code.setdefault(c, []).append(cid)
    old = {cid: (b, c) for cid, b, c in _codes(session, source.id)}
    targeted, evidence = _used(session, protocol)
    for cid in sorted(targeted | evidence):
        block_code, code = old[cid]
        found = by_pair.get((block_code, code))
        if found is None and len(by_code.get(code, [])) == 1:
            found = by_code[code][0]
        if found is not None:
            move.competences[cid] = found
        elif cid in evidence:
            move.stuck.append(f"{block_code} / {code}")
        else:
            move.dropped.append(f"{block_code} / {code}")
    old_levels = session.exec(select(Level.id, Level.rank).where(Level.referential_id == source.id))
    new_levels = dict(
        session.exec(select(Level.rank, Level.id).where(Level.referential_id == target.id)).all()
    )
    for lid, rank in old_levels:
        if rank in new_levels:
            move.levels[lid] = new_levels[rank]
    used_levels = set(
        session.exec(
            select(CompetenceAssessment.level_id).where(
                CompetenceAssessment.protocol_id == protocol.id
            )
        )
    )
    move.stuck += [f"niveau {lid}" for lid in sorted(used_levels - set(move.levels))]
    return move


def _retarget(session: Session, move: Move) -> None:
    """The targets again, with the new version's wording; dropped ones removed."""
    rows = session.exec(
        select(ProtocolCompetence).where(ProtocolCompetence.protocol_id == move.protocol.id)
    ).all()
    fresh = {
        c.id: (c, b)
        for c, b in session.exec(
            select(Competence, CompetenceBlock)
            .join(CompetenceBlock, CompetenceBlock.id == Competence.block_id)
            .where(Competence.id.in_(list(move.competences.values())))
        )
    }
    for row in rows:
        if row.competence_id not in move.competences:
            session.delete(row)
            continue
        competence, block = fresh[move.competences[row.competence_id]]
        row.competence_id, row.block_id = competence.id, block.id
        row.block_code, row.block_title = block.code, block.title
        row.competence_code, row.competence_title = competence.code, competence.title
        session.add(row)


def move_protocol(
    session: Session, *, actor_id: int, protocol: Protocol, target: Referential
) -> Move:
    """Move a protocol with no signature to a newer version of its référentiel, carrying its
    targets and evidence where the codes match; refused (nothing written) when the protocol
    has a signature or evidence cannot be carried."""
    move = plan_move(session, protocol, target)
    if move.signed:
        raise ServiceError(
            _l("Ce protocole a des signatures : il reste sur sa version du référentiel.")
        )
    if move.stuck:
        raise ServiceError(
            _l(
                "Sans équivalent dans la nouvelle version : %(l)s.",
                l=", ".join(move.stuck),
            )
        )
    source_id = protocol.referential_id
    _retarget(session, move)
    session.flush()
    for old, new in move.competences.items():
        session.execute(
            update(CompetenceAssessment)
            .where(
                CompetenceAssessment.protocol_id == protocol.id,
                CompetenceAssessment.competence_id == old,
            )
            .values(competence_id=new)
        )
        sequences = select(Sequence.id).where(Sequence.protocol_id == protocol.id)
        session.execute(
            update(SequenceCompetence)
            .where(
                SequenceCompetence.sequence_id.in_(sequences),
                SequenceCompetence.competence_id == old,
            )
            .values(competence_id=new)
        )
    for old, new in move.levels.items():
        session.execute(
            update(CompetenceAssessment)
            .where(
                CompetenceAssessment.protocol_id == protocol.id,
                CompetenceAssessment.level_id == old,
            )
            .values(level_id=new)
        )
    protocol.referential_id = target.id
    session.add(protocol)
    session.flush()
    # the dashboards' facts name the référentiel and its blocks: recomputed for this protocol
    rollups.on_protocol_changed(session, protocol.id)
    audit.record(
        session,
        actor_id=actor_id,
        action="protocol.move_referential",
        subject_kind="protocol",
        subject_id=protocol.id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        before={"referential_id": source_id},
        after={
            "referential_id": target.id,
            "version": target.version,
            "carried": len(move.competences),
            "dropped": move.dropped,
        },
    )
    return move
