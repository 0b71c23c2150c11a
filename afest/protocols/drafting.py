"""Writing a protocol's draft: its fields, tutors and targeted scope (a snapshot of the
référentiel's wording), its plan, the initial positioning. Nothing is signed yet; the draft
then goes through the lifecycle (afest.protocols.operations)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.assessments.levels import add_levels, check_levels
from afest.core import audit
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    AssessmentSource,
    Competence,
    CompetenceAssessment,
    CompetenceBlock,
    Organisation,
    PlannedSequence,
    Protocol,
    ProtocolCompetence,
    ProtocolStatus,
    ProtocolTutor,
    Role,
    SequenceKind,
    User,
    utcnow,
)
from afest.protocols.operations import has_role, require_status

MAX_PROTOCOL_DAYS = 3 * 365
# A protocol drafted today starts within these many days of today: a year typed wrong
# (0001, 2206) is refused beside the field instead of being kept for the OPCO to read.
START_WITHIN_DAYS = 2 * 365


def _snapshot(session: Session, referential_id: int, competence_ids: Iterable[int]):
    ids = sorted(set(competence_ids))
    rows = session.exec(
        select(Competence, CompetenceBlock)
        .join(CompetenceBlock, CompetenceBlock.id == Competence.block_id)
        .where(Competence.id.in_(ids), CompetenceBlock.referential_id == referential_id)
        .order_by(CompetenceBlock.position, Competence.position)
    ).all()
    if not ids:
        raise ServiceError(_l("Choisissez au moins une compétence visée."), field="competences")
    if len(rows) != len(ids):
        raise ServiceError(
            _l("Une compétence choisie n'appartient pas au référentiel du protocole."),
            field="competences",
        )
    return rows


def _add_scope(session: Session, protocol: Protocol, rows) -> None:
    """Targeted competences, with the wording of the référentiel as it is now (snapshot)."""
    for position, (competence, block) in enumerate(rows):
        session.add(
            ProtocolCompetence(
                protocol_id=protocol.id,
                competence_id=competence.id,
                block_id=block.id,
                block_code=block.code,
                block_title=block.title,
                competence_code=competence.code,
                competence_title=competence.title,
                position=position,
            )
        )


def _checked_draft(
    session: Session,
    *,
    title: str,
    planned_start: date,
    planned_end: date,
    tutor_ids: Iterable[int],
    learner_id: int,
    structure_id: int,
) -> list[int]:
    """The rules a draft's fields and tutors follow, created or rewritten; the tutor ids."""
    if not title.strip():
        raise ServiceError(_l("Donnez un intitulé à l'action."), field="title")
    if abs((planned_start - utcnow().date()).days) > START_WITHIN_DAYS:  # a day off is nothing here
        raise ServiceError(
            _l("Le début prévu doit être à moins de deux ans d'aujourd'hui."),
            field="planned_start",
        )
    if planned_end < planned_start:
        raise ServiceError(_l("La fin prévue précède le début."), field="planned_end")
    if (planned_end - planned_start).days > MAX_PROTOCOL_DAYS:
        raise ServiceError(_l("Un protocole ne peut pas dépasser trois ans."), field="planned_end")
    tutor_ids = sorted(set(tutor_ids))
    if not tutor_ids:
        raise ServiceError(_l("Désignez au moins un·e tuteur·rice."), field="tutors")
    for tutor_id in tutor_ids:
        if tutor_id == learner_id or not has_role(session, tutor_id, Role.TUTOR, structure_id):
            raise ServiceError(
                _l("Un·e tuteur·rice choisi·e n'est pas tuteur·rice de la structure."),
                field="tutors",
            )
    return tutor_ids


def create_protocol(
    session: Session,
    *,
    actor_id: int,
    learner: User,
    structure: Organisation,
    referential_id: int,
    title: str,
    planned_start: date,
    planned_end: date,
    competence_ids: Iterable[int],
    tutor_ids: Iterable[int],
    objective: str = "",
    activity_analysis: str = "",
    work_situations: str = "",
    planned_minutes: int = 0,
    cohort_id: int | None = None,
    designated_at: datetime | None = None,
) -> Protocol:
    """Draft a protocol for a learner of the structure, with its tutors and targeted scope."""
    if not has_role(session, learner.id, Role.LEARNER, structure.id):
        raise ServiceError(
            _l("Cette personne n'est pas apprenante dans la structure."), field="learner"
        )
    tutor_ids = _checked_draft(
        session,
        title=title,
        planned_start=planned_start,
        planned_end=planned_end,
        tutor_ids=tutor_ids,
        learner_id=learner.id,
        structure_id=structure.id,
    )
    rows = _snapshot(session, referential_id, competence_ids)

    now = utcnow()
    protocol = Protocol(
        learner_id=learner.id,
        structure_id=structure.id,
        funder_id=structure.opco_id,
        cohort_id=cohort_id,
        referential_id=referential_id,
        title=title.strip(),
        objective=objective,
        activity_analysis=activity_analysis,
        work_situations=work_situations,
        planned_start=planned_start,
        planned_end=planned_end,
        planned_minutes=planned_minutes,
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
    )
    session.add(protocol)
    session.flush()
    for tutor_id in tutor_ids:
        session.add(
            ProtocolTutor(
                protocol_id=protocol.id,
                tutor_id=tutor_id,
                designated_at=designated_at or now,
                designated_by_id=actor_id,
            )
        )
    _add_scope(session, protocol, rows)
    session.flush()
    rollups.on_protocol_created(session, protocol.id)
    audit.record(
        session,
        actor_id=actor_id,
        action="protocol.create",
        subject_kind="protocol",
        subject_id=protocol.id,
        protocol_id=protocol.id,
        structure_id=structure.id,
        after={
            "title": protocol.title,
            "learner_id": learner.id,
            "tutors": tutor_ids,
            "competences": [c.id for c, _ in rows],
        },
    )
    return protocol


def update_draft(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    referential_id: int,
    title: str,
    planned_start: date,
    planned_end: date,
    competence_ids: Iterable[int],
    tutor_ids: Iterable[int],
    objective: str = "",
    activity_analysis: str = "",
    work_situations: str = "",
    planned_minutes: int = 0,
) -> None:
    """Rewrite a draft: its fields, its tutors and its targeted scope (nothing is signed yet)."""
    require_status(protocol, ProtocolStatus.DRAFT)
    tutor_ids = _checked_draft(
        session,
        title=title,
        planned_start=planned_start,
        planned_end=planned_end,
        tutor_ids=tutor_ids,
        learner_id=protocol.learner_id,
        structure_id=protocol.structure_id,
    )
    rows = _snapshot(session, referential_id, competence_ids)
    before = {
        "title": protocol.title,
        "referential_id": protocol.referential_id,
        "planned_start": protocol.planned_start,
        "planned_end": protocol.planned_end,
    }
    protocol.referential_id = referential_id
    protocol.title = title.strip()
    protocol.objective = objective
    protocol.activity_analysis = activity_analysis
    protocol.work_situations = work_situations
    protocol.planned_start = planned_start
    protocol.planned_end = planned_end
    protocol.planned_minutes = planned_minutes
    protocol.updated_at = utcnow()
    session.add(protocol)

    now = utcnow()
    links = session.exec(select(ProtocolTutor).where(ProtocolTutor.protocol_id == protocol.id))
    kept = set()
    for link in links:
        if link.tutor_id in tutor_ids:
            kept.add(link.tutor_id)  # keep the original designation date
        else:
            session.delete(link)
    for tutor_id in tutor_ids:
        if tutor_id not in kept:
            session.add(
                ProtocolTutor(
                    protocol_id=protocol.id,
                    tutor_id=tutor_id,
                    designated_at=now,
                    designated_by_id=actor_id,
                )
            )
    wanted = {c.id for c, _ in rows}
    for pc in session.exec(
        select(ProtocolCompetence).where(ProtocolCompetence.protocol_id == protocol.id)
    ):
        session.delete(pc)
    for row in session.exec(
        select(CompetenceAssessment).where(
            CompetenceAssessment.protocol_id == protocol.id,
            CompetenceAssessment.competence_id.not_in(wanted),
        )
    ):
        session.delete(row)  # positioning of a competence no longer targeted
    session.flush()
    _add_scope(session, protocol, rows)
    session.flush()
    session.expire(protocol, ["tutors", "competences"])
    rollups.on_protocol_changed(session, protocol.id)
    audit.record(
        session,
        actor_id=actor_id,
        action="protocol.update",
        subject_kind="protocol",
        subject_id=protocol.id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        before=before,
        after={
            "title": protocol.title,
            "referential_id": referential_id,
            "planned_start": planned_start,
            "planned_end": planned_end,
            "tutors": tutor_ids,
            "competences": sorted(wanted),
        },
    )


def add_planned_sequences(
    session: Session,
    *,
    actor_id: int,
    protocol: Protocol,
    items: Iterable[tuple[SequenceKind, date, str, int]],
) -> None:
    """Add planned sequences (kind, date, title, minutes) to a protocol still in draft."""
    require_status(protocol, ProtocolStatus.DRAFT)
    start = len(protocol.plan)
    for offset, (kind, planned_on, title, minutes) in enumerate(items):
        if not protocol.planned_start <= planned_on <= protocol.planned_end:
            raise ServiceError(
                _l("Une séquence prévue tombe hors des dates du protocole."), field="plan"
            )
        session.add(
            PlannedSequence(
                protocol_id=protocol.id,
                kind=kind,
                planned_on=planned_on,
                title=title,
                planned_minutes=minutes,
                position=start + offset,
            )
        )
    session.flush()
    session.refresh(protocol, ["plan"])
    rollups.on_plan_changed(session, protocol.id)
    audit.record(
        session,
        actor_id=actor_id,
        action="protocol.plan",
        subject_kind="protocol",
        subject_id=protocol.id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        after={"planned": len(protocol.plan)},
    )


def set_initial_positioning(
    session: Session, *, actor_id: int, protocol: Protocol, levels: Mapping[int, int]
) -> None:
    """Record the level held on each targeted competence at the start (the baseline)."""
    require_status(protocol, ProtocolStatus.DRAFT)
    check_levels(session, protocol, levels, field="levels")
    existing = session.exec(
        select(CompetenceAssessment).where(
            CompetenceAssessment.protocol_id == protocol.id,
            CompetenceAssessment.source == AssessmentSource.INITIAL,
        )
    ).all()
    for row in existing:  # still a draft: the positioning may be redone
        session.delete(row)
    add_levels(
        session,
        protocol=protocol,
        levels=levels,
        source=AssessmentSource.INITIAL,
        actor_id=actor_id,
        at=utcnow(),
    )
    session.flush()
    rollups.on_assessment_written(session, protocol.id)
    audit.record(
        session,
        actor_id=actor_id,
        action="protocol.positioning",
        subject_kind="protocol",
        subject_id=protocol.id,
        protocol_id=protocol.id,
        structure_id=protocol.structure_id,
        after={"levels": sorted([c, lv] for c, lv in levels.items())},
    )
