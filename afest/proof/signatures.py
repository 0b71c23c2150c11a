"""Signing: the canonical content of a signed record, its hash, and its verification.

What is hashed is everything a reader of the record relies on; a funder's auditor can
recompute the hash from the rows and compare it with the one stored at signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.core import audit
from afest.core.audit import canonical_json, sha256_hex
from afest.core.errors import ServiceError
from afest.models import (
    Certificate,
    CompetenceAssessment,
    Evaluation,
    PlannedSequence,
    Protocol,
    ProtocolCompetence,
    ProtocolTutor,
    ReflectionSituation,
    Sequence,
    SequenceCompetence,
    Signature,
    SignedKind,
    SignerRole,
    utcnow,
)
from afest.sequences import attachments

SEQUENCE_FIELDS = (
    "kind",
    "occurred_at",
    "duration_minutes",
    "place",
    "autonomy",
    "intent",
    "observations",
    "expected",
    "achieved",
    "learnt",
    "gaps",
    "learner_words",
    "next_step",
)
_PROTOCOL_FIELDS = (
    "title",
    "objective",
    "activity_analysis",
    "work_situations",
    "planned_start",
    "planned_end",
    "planned_minutes",
    "learner_id",
    "structure_id",
    "referential_id",
    "cohort_id",
    "funder_id",
)


def _assessments(session: Session, **where: Any) -> list[list[Any]]:
    query = select(CompetenceAssessment.competence_id, CompetenceAssessment.level_id)
    for name, value in where.items():
        query = query.where(getattr(CompetenceAssessment, name) == value)
    return sorted([list(row) for row in session.exec(query)])


def sequence_content(session: Session, sequence: Sequence) -> dict[str, Any]:
    content = {name: getattr(sequence, name) for name in SEQUENCE_FIELDS}
    content.update(
        id=sequence.public_id,
        client_id=sequence.client_id,
        protocol_id=sequence.protocol_id,
        amends_id=sequence.amends_id,
        amendment_reason=sequence.amendment_reason,
        competences=sorted(
            session.exec(
                select(SequenceCompetence.competence_id).where(
                    SequenceCompetence.sequence_id == sequence.id
                )
            )
        ),
        situations=sorted(
            session.exec(
                select(ReflectionSituation.situation_id).where(
                    ReflectionSituation.reflection_id == sequence.id
                )
            )
        ),
        levels=_assessments(session, sequence_id=sequence.id),
    )
    # files attached: only named when there are some, so that the content of a sequence
    # signed without any is what it was before attachments existed
    if files := attachments.content(session, sequence.id):
        content["attachments"] = files
    return content


def protocol_content(session: Session, protocol: Protocol) -> dict[str, Any]:
    content = {name: getattr(protocol, name) for name in _PROTOCOL_FIELDS}
    content["id"] = protocol.public_id
    content["tutors"] = sorted(
        [t.tutor_id, t.designated_at.isoformat()]
        for t in session.exec(select(ProtocolTutor).where(ProtocolTutor.protocol_id == protocol.id))
    )
    content["competences"] = sorted(
        [c.competence_id, c.block_code, c.block_title, c.competence_code, c.competence_title]
        for c in session.exec(
            select(ProtocolCompetence).where(ProtocolCompetence.protocol_id == protocol.id)
        )
    )
    content["plan"] = [
        [p.kind, p.planned_on.isoformat(), p.title, p.planned_minutes]
        for p in session.exec(
            select(PlannedSequence)
            .where(PlannedSequence.protocol_id == protocol.id)
            .order_by(PlannedSequence.position, PlannedSequence.id)
        )
    ]
    content["initial_levels"] = _assessments(session, protocol_id=protocol.id, source="initial")
    return content


def evaluation_content(session: Session, evaluation: Evaluation) -> dict[str, Any]:
    return {
        "id": evaluation.public_id,
        "protocol_id": evaluation.protocol_id,
        "kind": evaluation.kind,
        "evaluated_on": evaluation.evaluated_on,
        "summary": evaluation.summary,
        "amends_id": evaluation.amends_id,
        "amendment_reason": evaluation.amendment_reason,
        "levels": _assessments(session, evaluation_id=evaluation.id),
    }


CERTIFICATE_FIELDS = (
    "protocol_id",
    "learner_name",
    "employer_name",
    "employer_siret",
    "title",
    "nature",
    "first_day",
    "last_day",
    "minutes",
    "dispensateur_name",
    "dispensateur_siret",
    "signatory_id",
    "signatory_name",
    "signatory_role",
    "place",
    "signed_on",
)


def certificate_content(session: Session, certificate: Certificate) -> dict[str, Any]:
    """Everything the certificat de réalisation states, as stored when it was signed."""
    content = {name: getattr(certificate, name) for name in CERTIFICATE_FIELDS}
    content["id"] = certificate.public_id
    return content


CONTENT = {
    SignedKind.SEQUENCE: sequence_content,
    SignedKind.PROTOCOL: protocol_content,
    SignedKind.EVALUATION: evaluation_content,
    SignedKind.CERTIFICATE: certificate_content,
}


def content_hash(session: Session, kind: SignedKind, subject: Any) -> str:
    return sha256_hex(canonical_json(CONTENT[kind](session, subject)))


def signatures_of(session: Session, kind: SignedKind, subject_id: int) -> list[Signature]:
    return list(
        session.exec(
            select(Signature)
            .where(Signature.subject_kind == kind, Signature.subject_id == subject_id)
            .order_by(Signature.signed_at)
        )
    )


def sign(
    session: Session,
    *,
    actor_id: int,
    kind: SignedKind,
    subject: Any,
    role: SignerRole,
    method: str,
    protocol: Protocol,
) -> Signature:
    """Record `actor`'s signature of `subject` in `role`, with the hash of its content now.

    A record is signed once per role; every later signature must match the content the first
    signer saw, so that two parties never sign two different versions.
    """
    existing = signatures_of(session, kind, subject.id)
    if any(s.signer_role == role for s in existing):
        raise ServiceError(_l("Ce document est déjà signé à ce titre."))
    digest = content_hash(session, kind, subject)
    if existing and any(s.content_hash != digest for s in existing):
        raise ServiceError(
            _l("Le contenu a changé depuis la première signature : il ne peut plus être signé.")
        )
    signature = Signature(
        subject_kind=kind,
        subject_id=subject.id,
        signer_id=actor_id,
        signer_role=role,
        signed_at=utcnow(),
        content_hash=digest,
        method=method,
    )
    session.add(signature)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action=f"{kind}.sign",
        subject_kind=str(kind),
        subject_id=subject.id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        after={"role": role, "hash": digest, "method": method},
    )
    return signature


@dataclass(frozen=True)
class Verification:
    signature: Signature
    current_hash: str

    @property
    def intact(self) -> bool:
        return self.signature.content_hash == self.current_hash


def verify(session: Session, kind: SignedKind, subject: Any) -> list[Verification]:
    """Each signature of `subject` beside the hash of its content as stored now."""
    current = content_hash(session, kind, subject)
    return [Verification(s, current) for s in signatures_of(session, kind, subject.id)]
