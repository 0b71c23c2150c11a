"""Every "who may see / do what on which object" rule of afest, in one place.

Visibility rules are SQL conditions, so that lists are filtered by the database and a single
object outside the actor's scope is simply not found (404, no existence leak). Permission
rules on an object already visible are plain predicates (403 when they fail).
"""

from __future__ import annotations

from typing import Protocol as TypingProtocol

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from afest.models import (
    CohortConsultant,
    CohortStructure,
    Organisation,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Role,
    User,
)


class ActorLike(TypingProtocol):
    id: int

    def has(self, *roles: Role) -> bool: ...

    def orgs(self, role: Role) -> frozenset[int]: ...


# --- visibility (SQL) ---------------------------------------------------------------------


def _followed_cohorts(actor: ActorLike):
    return select(CohortConsultant.cohort_id).where(CohortConsultant.user_id == actor.id)


def protocol_visible(actor: ActorLike) -> ColumnElement[bool]:
    """Protocols the actor may read: own (learner), designated (tutor), structure (manager),
    funded (OPCO), followed cohort (consultant). Administrators manage référentiels and
    accounts, not learners' records."""
    clauses = []
    if actor.has(Role.LEARNER):
        clauses.append(Protocol.learner_id == actor.id)
    if actor.has(Role.TUTOR):
        clauses.append(
            Protocol.id.in_(
                select(ProtocolTutor.protocol_id).where(
                    ProtocolTutor.tutor_id == actor.id, ProtocolTutor.ended_at.is_(None)
                )
            )
        )
    if actor.has(Role.MANAGER):
        clauses.append(Protocol.structure_id.in_(actor.orgs(Role.MANAGER)))
    if actor.has(Role.OPCO):
        clauses.append(Protocol.funder_id.in_(actor.orgs(Role.OPCO)))
    if actor.has(Role.CONSULTANT):
        clauses.append(Protocol.cohort_id.in_(_followed_cohorts(actor)))
    return or_(*clauses) if clauses else false()


def structure_visible(actor: ActorLike) -> ColumnElement[bool]:
    """Structures the actor may look into: managed, funded by their OPCO, or in a followed
    cohort. Administrators see every organisation (they manage them)."""
    if actor.has(Role.ADMIN):
        return true()
    clauses = []
    if actor.has(Role.MANAGER):
        clauses.append(Organisation.id.in_(actor.orgs(Role.MANAGER)))
    if actor.has(Role.OPCO):
        clauses.append(Organisation.opco_id.in_(actor.orgs(Role.OPCO)))
    if actor.has(Role.CONSULTANT):
        clauses.append(
            Organisation.id.in_(
                select(CohortStructure.structure_id).where(
                    CohortStructure.cohort_id.in_(_followed_cohorts(actor))
                )
            )
        )
    return and_(Organisation.kind == "structure", or_(*clauses)) if clauses else false()


# --- permissions on a visible object ------------------------------------------------------


def is_designated_tutor(actor: ActorLike, protocol: Protocol) -> bool:
    return actor.has(Role.TUTOR) and any(
        t.tutor_id == actor.id and t.ended_at is None for t in protocol.tutors
    )


def manages(actor: ActorLike, structure_id: int) -> bool:
    return actor.has(Role.MANAGER) and structure_id in actor.orgs(Role.MANAGER)


def can_view_protocol(actor: ActorLike, protocol: Protocol) -> bool:
    """Anything that passed protocol_visible; kept as a predicate for `require=`."""
    return True


def can_edit_protocol(actor: ActorLike, protocol: Protocol) -> bool:
    """Only the structure's manager drafts a protocol, and only before it is signed."""
    return manages(actor, protocol.structure_id) and protocol.status in (
        ProtocolStatus.DRAFT,
        ProtocolStatus.AWAITING_SIGNATURES,
    )


def can_log_sequence(actor: ActorLike, protocol: Protocol) -> bool:
    """A designated tutor logs sequences on a protocol in progress."""
    return is_designated_tutor(actor, protocol) and protocol.status == ProtocolStatus.IN_PROGRESS


def can_manage_accounts(actor: ActorLike) -> bool:
    return actor.has(Role.ADMIN)


def can_deactivate(actor: ActorLike, user: User) -> bool:
    return can_manage_accounts(actor) and user.id != actor.id
