"""Read model of one sequence page: content, competences and levels, signatures, versions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.models import (
    CompetenceAssessment,
    Level,
    Protocol,
    ProtocolCompetence,
    ReflectionSituation,
    Sequence,
    SequenceAttachment,
    SequenceCompetence,
    Signature,
    SignedKind,
    SignerRole,
    User,
)
from afest.sequences import attachments as attached


@dataclass
class CompetenceLine:
    competence: ProtocolCompetence
    level: Level | None


@dataclass
class SignatureLine:
    signature: Signature
    signer: User


@dataclass
class SequenceView:
    sequence: Sequence
    protocol: Protocol
    competences: list[CompetenceLine]
    situations: list[Sequence]
    signatures: list[SignatureLine]
    original: Sequence | None  # the version this one corrects
    newer: Sequence | None  # the version that corrects this one
    attachments: list[SequenceAttachment]

    def signed_by(self, role: SignerRole) -> bool:
        return any(line.signature.signer_role == role for line in self.signatures)

    @property
    def tutor_signed(self) -> bool:
        return self.signed_by(SignerRole.TUTOR)

    @property
    def learner_signed(self) -> bool:
        return self.signed_by(SignerRole.LEARNER)


def sequence_view(session: Session, sequence: Sequence, protocol: Protocol) -> SequenceView:
    """Everything the sequence page shows, in a fixed number of queries."""
    levels = dict(
        session.exec(
            select(CompetenceAssessment.competence_id, Level)
            .join(Level, Level.id == CompetenceAssessment.level_id)
            .where(CompetenceAssessment.sequence_id == sequence.id)
        ).all()
    )
    competences = [
        CompetenceLine(pc, levels.get(pc.competence_id))
        for pc in session.exec(
            select(ProtocolCompetence)
            .join(
                SequenceCompetence,
                SequenceCompetence.competence_id == ProtocolCompetence.competence_id,
            )
            .where(
                SequenceCompetence.sequence_id == sequence.id,
                ProtocolCompetence.protocol_id == protocol.id,
            )
            .order_by(ProtocolCompetence.position, ProtocolCompetence.id)
        )
    ]
    situations = list(
        session.exec(
            select(Sequence)
            .join(ReflectionSituation, ReflectionSituation.situation_id == Sequence.id)
            .where(ReflectionSituation.reflection_id == sequence.id)
            .order_by(Sequence.occurred_at)
        )
    )
    signer = aliased(User)
    sigs = [
        SignatureLine(sig, user)
        for sig, user in session.exec(
            select(Signature, signer)
            .join(signer, signer.id == Signature.signer_id)
            .where(
                Signature.subject_kind == SignedKind.SEQUENCE,
                Signature.subject_id == sequence.id,
            )
            .order_by(Signature.signed_at)
        )
    ]
    original = session.get(Sequence, sequence.amends_id) if sequence.amends_id else None
    newer = session.exec(select(Sequence).where(Sequence.amends_id == sequence.id)).first()
    files = attached.of_sequences(session, [sequence.id])[sequence.id]
    return SequenceView(sequence, protocol, competences, situations, sigs, original, newer, files)
