"""Evaluations of acquired competences (condition 4), intermediate or final (the bilan)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.assessments.levels import add_levels, check_levels
from afest.core import audit
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    AssessmentSource,
    CompetenceAssessment,
    Evaluation,
    EvaluationKind,
    Level,
    Protocol,
    ProtocolStatus,
    Signature,
    SignedKind,
    SignerRole,
    utcnow,
)
from afest.proof import signatures


def create_evaluation(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    client_id: str,
    kind: EvaluationKind,
    evaluated_on: date,
    summary: str,
    levels: Mapping[int, int],
) -> Evaluation:
    """Record an evaluation with a level for each competence assessed."""
    if protocol.status != ProtocolStatus.IN_PROGRESS:
        raise ServiceError(_l("Le protocole n'est pas en cours."))
    existing = session.exec(select(Evaluation).where(Evaluation.client_id == client_id)).first()
    if existing is not None and existing.protocol_id == protocol.id:
        return existing
    if evaluated_on < protocol.planned_start:
        raise ServiceError(_l("La date précède le début du protocole."), field="evaluated_on")
    if not levels:
        raise ServiceError(_l("Évaluez au moins une compétence."), field="levels")
    check_levels(session, protocol, levels, field="levels")
    evaluation = Evaluation(
        client_id=client_id,
        protocol_id=protocol.id,
        kind=kind,
        evaluated_on=evaluated_on,
        summary=summary.strip(),
        created_by_id=actor_id,
        created_at=utcnow(),
    )
    session.add(evaluation)
    session.flush()
    add_levels(
        session,
        protocol=protocol,
        levels=levels,
        source=AssessmentSource.EVALUATION,
        actor_id=actor_id,
        at=utcnow(),
        evaluation_id=evaluation.id,
    )
    session.flush()
    rollups.on_evaluation_written(session, protocol.id)
    audit.record(
        session,
        actor_id=actor_id,
        action="evaluation.create",
        subject_kind="evaluation",
        subject_id=evaluation.id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        after=signatures.evaluation_content(session, evaluation),
    )
    return evaluation


def sign_evaluation(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    evaluation: Evaluation,
    role: SignerRole,
    method: str,
) -> None:
    """The tutor signs an evaluation; the learner countersigns. The tutor's signature is
    what meets condition 4 (afest.protocols.compliance): the dashboards count it too."""
    allowed = (
        role == SignerRole.TUTOR
        and any(t.tutor_id == actor_id and t.ended_at is None for t in protocol.tutors)
    ) or (role == SignerRole.LEARNER and actor_id == protocol.learner_id)
    if not allowed:
        raise ServiceError(_l("Vous ne pouvez pas signer cette évaluation à ce titre."))
    signatures.sign(
        session,
        actor_id=actor_id,
        kind=SignedKind.EVALUATION,
        subject=evaluation,
        role=role,
        method=method,
        protocol=protocol,
    )
    rollups.on_evaluation_written(session, protocol.id)


def has_signed_final(session: Session, protocol_id: int) -> bool:
    """True when a final evaluation of the protocol carries the tutor's signature."""
    return (
        session.exec(
            select(Evaluation.id)
            .join(
                Signature,
                (Signature.subject_id == Evaluation.id)
                & (Signature.subject_kind == SignedKind.EVALUATION),
            )
            .where(
                Evaluation.protocol_id == protocol_id,
                Evaluation.kind == EvaluationKind.FINAL,
                Signature.signer_role == SignerRole.TUTOR,
            )
        ).first()
        is not None
    )


def levels_given(session: Session, evaluation_id: int) -> list:
    """(competence id, level) of each level an evaluation gave, in the order given."""
    return session.exec(
        select(CompetenceAssessment.competence_id, Level)
        .join(Level, Level.id == CompetenceAssessment.level_id)
        .where(CompetenceAssessment.evaluation_id == evaluation_id)
        .order_by(CompetenceAssessment.id)
    ).all()
