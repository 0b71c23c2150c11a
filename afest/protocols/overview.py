"""What each role's home page shows, computed in SQL within the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from afest import policy
from afest.models import (
    Cohort,
    CohortConsultant,
    CohortStructure,
    Organisation,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Role,
    User,
)


def visible_protocols(session: Session, actor, *, where=(), limit: int = 200) -> list[Protocol]:
    """Protocols in the actor's scope, with learner, structure and tutors loaded up front."""
    query = (
        select(Protocol)
        .where(policy.protocol_visible(actor), *where)
        .options(
            selectinload(Protocol.learner),
            selectinload(Protocol.structure),
            selectinload(Protocol.referential),
            selectinload(Protocol.tutors).selectinload(ProtocolTutor.tutor),
            selectinload(Protocol.open_pause),
        )
        .order_by(Protocol.planned_start.desc(), Protocol.id.desc())
        .limit(limit)
    )
    return list(session.exec(query))


def status_filter(value: str | None) -> str | None:
    """The status a list is filtered on, from the address; anything else filters nothing."""
    return value if value in ProtocolStatus.__members__.values() else None


def managed_protocols(session: Session, actor, *, status: str | None) -> list[Protocol]:
    """The protocols of the structures the actor manages, of one status if given."""
    where = [Protocol.structure_id.in_(actor.orgs(Role.MANAGER))]
    if status:
        where.append(Protocol.status == status)
    return visible_protocols(session, actor, where=where)


def learner_protocols(session: Session, actor) -> list[Protocol]:
    return visible_protocols(session, actor, where=[Protocol.learner_id == actor.id])


def tutored_protocols(session: Session, actor) -> list[Protocol]:
    designated = select(ProtocolTutor.protocol_id).where(
        ProtocolTutor.tutor_id == actor.id, ProtocolTutor.ended_at.is_(None)
    )
    return visible_protocols(
        session,
        actor,
        where=[
            Protocol.id.in_(designated),
            Protocol.status.in_([ProtocolStatus.AWAITING_SIGNATURES, ProtocolStatus.IN_PROGRESS]),
        ],
    )


@dataclass(frozen=True)
class StatusCount:
    name: str
    public_id: str | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def protocols_by_structure(session: Session, actor) -> list[StatusCount]:
    """For each visible structure, its protocols counted by status (one GROUP BY)."""
    rows = session.exec(
        select(Organisation.name, Organisation.public_id, Protocol.status, func.count())
        .join(Protocol, Protocol.structure_id == Organisation.id)
        .where(policy.protocol_visible(actor))
        .group_by(Organisation.name, Organisation.public_id, Protocol.status)
        .order_by(Organisation.name)
    )
    result: dict[str, StatusCount] = {}
    for name, public_id, status, count in rows:
        entry = result.setdefault(public_id, StatusCount(name, public_id, {}))
        entry.counts[str(status)] = count
    return list(result.values())


@dataclass(frozen=True)
class CohortLine:
    cohort: Cohort
    structures: int
    learners: int
    protocols: int


def followed_cohorts(session: Session, actor) -> list[CohortLine]:
    cohorts = list(
        session.exec(
            select(Cohort)
            .join(CohortConsultant, CohortConsultant.cohort_id == Cohort.id)
            .where(CohortConsultant.user_id == actor.id)
            .order_by(Cohort.name)
        )
    )
    ids = [c.id for c in cohorts]
    structures = dict(
        session.exec(
            select(CohortStructure.cohort_id, func.count())
            .where(CohortStructure.cohort_id.in_(ids))
            .group_by(CohortStructure.cohort_id)
        ).all()
    )
    figures = {
        cid: (learners, count)
        for cid, learners, count in session.exec(
            select(Protocol.cohort_id, func.count(func.distinct(Protocol.learner_id)), func.count())
            .where(Protocol.cohort_id.in_(ids))
            .group_by(Protocol.cohort_id)
        )
    }
    return [CohortLine(c, structures.get(c.id, 0), *figures.get(c.id, (0, 0))) for c in cohorts]


def account_counts(session: Session) -> dict[str, int]:
    return {
        "active": session.exec(
            select(func.count()).select_from(User).where(User.is_active.is_(True))
        ).one(),
        "inactive": session.exec(
            select(func.count()).select_from(User).where(User.is_active.is_(False))
        ).one(),
        "organisations": session.exec(select(func.count()).select_from(Organisation)).one(),
    }
