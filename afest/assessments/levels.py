"""Levels per competence: what a protocol targets, checking posted levels against its scope
and its référentiel's scale, and recording them (initial positioning, reflexive sequence,
evaluation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from afest.core.errors import ServiceError
from afest.models import AssessmentSource, CompetenceAssessment, Level, Protocol, ProtocolCompetence


def targeted_competence_ids(session: Session, protocol_id: int) -> set[int]:
    return set(
        session.exec(
            select(ProtocolCompetence.competence_id).where(
                ProtocolCompetence.protocol_id == protocol_id
            )
        )
    )


def add_levels(
    session: Session,
    *,
    protocol: Protocol,
    levels: Mapping[int, int],
    source: AssessmentSource,
    actor_id: int,
    at: datetime,
    sequence_id: int | None = None,
    evaluation_id: int | None = None,
) -> None:
    """Record a level per competence (positioning, reflexive sequence or evaluation), in one
    INSERT."""
    if not levels:
        return
    session.flush()  # what the caller changed before (a positioning redone) goes first
    session.connection().execute(
        CompetenceAssessment.__table__.insert(),
        [
            {
                "protocol_id": protocol.id,
                "competence_id": competence_id,
                "level_id": level_id,
                "source": source,
                "sequence_id": sequence_id,
                "evaluation_id": evaluation_id,
                "assessed_at": at,
                "assessed_by_id": actor_id,
                "comment": "",
            }
            for competence_id, level_id in sorted(levels.items())
        ],
    )


def check_levels(
    session: Session, protocol: Protocol, levels: Mapping[int, int], *, field: str
) -> None:
    """Every competence is in the protocol's scope and every level in its référentiel's scale."""
    scope = targeted_competence_ids(session, protocol.id)
    if not set(levels) <= scope:
        raise ServiceError(_l("Une compétence n'est pas visée par ce protocole."), field=field)
    scale = set(
        session.exec(select(Level.id).where(Level.referential_id == protocol.referential_id))
    )
    if not set(levels.values()) <= scale:
        raise ServiceError(_l("Niveau inconnu pour ce référentiel."), field=field)
