"""The reads behind what waits for a structure's managers and for VAE consultants
(afest.todo.items), in the shape of afest.todo.queries: one statement per kind of item, for
many people at once, each row the person's id first."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from sqlalchemy import and_, bindparam, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.accounts.links import INVITATION
from afest.models import (
    AccountToken,
    Evaluation,
    Organisation,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Role,
    RoleAssignment,
    Sequence,
    SignedKind,
    SignerRole,
    User,
    VaeMilestone,
    VaePathway,
    VaeState,
)
from afest.todo.preferences import OPTED_IN
from afest.todo.queries import People, among, current, held, paused, run, signed

TERMINAL_VAE = (VaeState.CERTIFICATION, VaeState.ABANDON)


# --- manager --------------------------------------------------------------------------------


def blank(text_column):
    """SQL: the text is empty or only spaces, tabs and line breaks (as the dashboards)."""
    spaced = func.replace(func.replace(func.replace(text_column, "\t", " "), "\n", " "), "\r", " ")
    return func.trim(spaced) == ""


def _conditions(learner):
    """The columns of a protocol that its legal conditions and signatures stand on, for the
    manager's and the OPCO's items (afest.todo.build.at_risk reads them)."""
    first = (  # correlated with the protocol of the outer query, two levels up
        select(func.min(ProtocolTutor.designated_at))
        .where(ProtocolTutor.protocol_id == Protocol.id)
        .correlate(Protocol)
        .scalar_subquery()
    )
    early = exists().where(
        Sequence.protocol_id == Protocol.id, current(Sequence), Sequence.occurred_at < first
    )
    return (
        Protocol.id,
        Protocol.public_id,
        Protocol.title,
        Protocol.status,
        Protocol.planned_start,
        Protocol.planned_end,
        learner.full_name,
        blank(Protocol.activity_analysis).label("no_analysis"),
        (~exists().where(ProtocolTutor.protocol_id == Protocol.id)).label("no_tutor"),
        early.label("early"),
        exists().where(Evaluation.protocol_id == Protocol.id, held()).label("evaluated"),
        *(
            signed(SignedKind.PROTOCOL, Protocol.id, role).label(f"signed_{role.value}")
            for role in SignerRole
        ),
    )


@cache
def _managed(everyone: bool):
    learner = aliased(User)
    return (
        select(RoleAssignment.user_id, *_conditions(learner))
        .select_from(RoleAssignment)
        .join(Protocol, Protocol.structure_id == RoleAssignment.organisation_id)
        .join(learner, learner.id == Protocol.learner_id)
        .where(
            RoleAssignment.role == Role.MANAGER,
            among(RoleAssignment.user_id, everyone),
            Protocol.status.in_([ProtocolStatus.AWAITING_SIGNATURES, ProtocolStatus.IN_PROGRESS]),
            ~paused(),
        )
    )


def managed(session: Session, *, people: People, now: datetime):
    """(manager, protocol…, what its conditions and signatures stand on) of the protocols
    awaiting signatures or in progress of the structures each person manages."""
    return run(session, _managed(people is None), people, now=now)


def _pending_invitation(user):
    """SQL: the person never signed in and an invitation of hers is still unused."""
    return and_(
        user.last_login_at.is_(None),
        exists().where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == INVITATION,
            AccountToken.used_at.is_(None),
        ),
    )


def _managers_and_members(role: Role | None, everyone: bool):
    """The managers among the people of a structure with its members (of `role`, else
    any), and the structure."""
    manager, member = aliased(RoleAssignment), aliased(RoleAssignment)
    query = (
        select(manager.user_id, User.public_id, User.full_name, Organisation.public_id)
        .select_from(manager)
        .join(member, member.organisation_id == manager.organisation_id)
        .join(User, User.id == member.user_id)
        .join(Organisation, Organisation.id == manager.organisation_id)
        .where(manager.role == Role.MANAGER, among(manager.user_id, everyone), User.is_active)
    )
    return manager, (query.where(member.role == role) if role else query)


@cache
def _without_pin(everyone: bool):
    _manager, query = _managers_and_members(Role.TUTOR, everyone)
    return query.where(User.pin_hash.is_(None), ~_pending_invitation(User)).distinct()


def tutors_without_pin(session: Session, *, people: People):
    """(manager, tutor…, structure) of the active tutors of her structures with no tablet
    PIN (those still invited are counted as invitations)."""
    return run(session, _without_pin(people is None), people)


@cache
def _invitations(everyone: bool):
    manager, query = _managers_and_members(None, everyone)
    return (
        query.add_columns(func.max(AccountToken.expires_at))
        .join(AccountToken, AccountToken.user_id == User.id)
        .where(
            User.last_login_at.is_(None),
            AccountToken.purpose == INVITATION,
            AccountToken.used_at.is_(None),
        )
        .group_by(manager.user_id, User.id, User.public_id, User.full_name, Organisation.public_id)
    )


def pending_invitations(session: Session, *, people: People):
    """(manager, person…, structure, when the last link expires) of the people of her
    structures invited and never signed in."""
    return run(session, _invitations(people is None), people)


# --- OPCO -------------------------------------------------------------------------------------


@cache
def _funded(everyone: bool, asked: bool):
    learner, adviser = aliased(User), aliased(User)
    query = (
        select(
            RoleAssignment.user_id,
            *_conditions(learner),
            Protocol.learner_id,
            Organisation.public_id.label("structure_public_id"),
            Organisation.name.label("structure_name"),
        )
        .select_from(RoleAssignment)
        .join(adviser, adviser.id == RoleAssignment.user_id)
        .join(Protocol, Protocol.funder_id == RoleAssignment.organisation_id)
        .join(Organisation, Organisation.id == Protocol.structure_id)
        .join(learner, learner.id == Protocol.learner_id)
        .where(
            RoleAssignment.role == Role.OPCO,
            among(RoleAssignment.user_id, everyone),
            Protocol.status == ProtocolStatus.IN_PROGRESS,
            ~paused(),
        )
    )
    return query.where(adviser.reminder_frequency.in_(OPTED_IN)) if asked else query


def funded(session: Session, *, people: People, now: datetime, asked: bool = True):
    """(OPCO adviser, protocol…, learner id, structure's public id and name) of the
    protocols in progress that her OPCO funds, for the advisers who chose to be reminded
    (an OPCO is told nothing unless she asks: afest.todo.preferences); with `asked=False`,
    for any of `people` (her dashboard, which she opens herself)."""
    return run(session, _funded(people is None, asked), people, now=now)


# --- consultant -----------------------------------------------------------------------------


@cache
def _stuck(everyone: bool):
    learner = aliased(User)
    last = (
        select(func.max(VaeMilestone.occurred_on))
        .where(VaeMilestone.pathway_id == VaePathway.id)
        .scalar_subquery()
    )
    day, before = bindparam("day"), bindparam("before")
    return (
        select(
            VaePathway.consultant_id,
            VaePathway.public_id,
            VaePathway.state,
            VaePathway.created_at,
            learner.full_name,
            last.label("last_on"),
        )
        .select_from(VaePathway)
        .join(learner, learner.id == VaePathway.learner_id)
        .where(
            VaePathway.consultant_id.is_not(None),
            among(VaePathway.consultant_id, everyone),
            VaePathway.state.not_in(TERMINAL_VAE),
            or_(last < day, and_(last.is_(None), VaePathway.created_at < before)),
        )
    )


def stuck_pathways(session: Session, *, people: People, before: datetime, day: date):
    """(consultant, pathway…, learner's name, last milestone's day) of the VAE pathways she
    follows, not ended, whose last milestone is older than `day` (or, with none, begun
    before `before`)."""
    return run(session, _stuck(people is None), people, day=day, before=before)
