"""Replacing a tutor on a structure's open protocols: a tutor who leaves, or changes post.

Each designation is dated: the leaving tutor's ends now, her successor's starts now. The
protocol's first designation keeps its date, so the legal condition "a tutor designated
before the first sequence" is judged the same for the sequences logged before and after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from afest.core import audit
from afest.core.errors import ServiceError
from afest.dashboards import rollups
from afest.models import (
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Role,
    RoleAssignment,
    User,
    utcnow,
)

OPEN_STATUSES = (
    ProtocolStatus.DRAFT,
    ProtocolStatus.AWAITING_SIGNATURES,
    ProtocolStatus.IN_PROGRESS,
)


@dataclass(frozen=True)
class Tutored:
    """An open protocol of the structure the leaving tutor is designated on."""

    protocol: Protocol
    co_tutors: tuple[User, ...]  # the other current tutors of the protocol


def tutored_by(session: Session, *, structure_id: int, tutor_id: int) -> list[Tutored]:
    """The structure's open protocols on which `tutor_id` is a current designated tutor."""
    protocols = session.exec(
        select(Protocol)
        .join(ProtocolTutor, ProtocolTutor.protocol_id == Protocol.id)
        .where(
            Protocol.structure_id == structure_id,
            Protocol.status.in_(OPEN_STATUSES),
            ProtocolTutor.tutor_id == tutor_id,
            ProtocolTutor.ended_at.is_(None),
        )
        .options(
            selectinload(Protocol.learner),
            selectinload(Protocol.tutors).selectinload(ProtocolTutor.tutor),
        )
        .order_by(Protocol.id)
    ).all()
    return [
        Tutored(
            protocol=p,
            co_tutors=tuple(
                t.tutor for t in p.tutors if t.ended_at is None and t.tutor_id != tutor_id
            ),
        )
        for p in protocols
    ]


def successors(session: Session, *, structure_id: int, leaving_id: int) -> list[User]:
    """The active tutors of the structure who could take over, by name."""
    return list(
        session.exec(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(
                RoleAssignment.organisation_id == structure_id,
                RoleAssignment.role == Role.TUTOR,
                User.is_active,
                User.id != leaving_id,
            )
            .order_by(User.full_name, User.id)
        ).unique()
    )


def handover(
    session: Session, *, structure_id: int, tutor_id: int
) -> tuple[list[Tutored], list[User]]:
    """What the handover screen shows: her open protocols, and who could take them."""
    return (
        tutored_by(session, structure_id=structure_id, tutor_id=tutor_id),
        successors(session, structure_id=structure_id, leaving_id=tutor_id),
    )


def replace_tutor(
    session: Session,
    *,
    actor_id: int,
    structure_id: int,
    leaving_id: int,
    choices: Mapping[int, int],
) -> int:
    """End the leaving tutor's designation on each of her open protocols of the structure
    and designate, from now, the successor chosen for it (`choices`: protocol id →
    successor id; every one of her protocols needs one). Returns how many were handed
    over."""
    tutored = tutored_by(session, structure_id=structure_id, tutor_id=leaving_id)
    if not tutored:
        raise ServiceError(_l("Aucun protocole ouvert à reprendre."))
    allowed = {u.id for u in successors(session, structure_id=structure_id, leaving_id=leaving_id)}
    missing = [t for t in tutored if choices.get(t.protocol.id) not in allowed]
    if missing:
        raise ServiceError(
            _l(
                "Choisissez un·e tuteur·rice de la structure pour chaque protocole "
                "(%(n)d sans choix valable).",
                n=len(missing),
            ),
            field="choices",
        )
    now = utcnow()
    for item in tutored:
        protocol, successor_id = item.protocol, choices[item.protocol.id]
        for link in protocol.tutors:
            if link.tutor_id == leaving_id and link.ended_at is None:
                link.ended_at = now
                session.add(link)
        again = next((t for t in protocol.tutors if t.tutor_id == successor_id), None)
        if again is None:
            session.add(
                ProtocolTutor(
                    protocol_id=protocol.id,
                    tutor_id=successor_id,
                    designated_at=now,
                    designated_by_id=actor_id,
                )
            )
        elif again.ended_at is not None:
            # designated before, then ended: designated again (one row per pair), the
            # earlier date kept; the audit entry tells the story
            again.ended_at = None
            session.add(again)
        session.flush()
        rollups.mark(session, [protocol.id])
        audit.record(
            session,
            actor_id=actor_id,
            action="protocol.tutor_replace",
            subject_kind="protocol",
            subject_id=protocol.id,
            protocol_id=protocol.id,
            structure_id=structure_id,
            before={"tutor": leaving_id},
            after={"tutor": successor_id, "at": now.isoformat()},
        )
    return len(tutored)
