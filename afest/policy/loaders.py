"""Load one object by its public id within the actor's scope, and authorize it, in one call.

An object outside the actor's scope answers 404 (its existence is not revealed); an object in
scope that the actor may not act on answers 403.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort
from flask_login import current_user
from sqlalchemy import Row, String, bindparam, cast, exists, func, literal_column
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import select

from afest import policy
from afest.core import audit
from afest.core.database import get_session
from afest.models import (
    Cohort,
    Evaluation,
    Organisation,
    Protocol,
    ProtocolCompetence,
    ProtocolTutor,
    Referential,
    Sequence,
    User,
    VaePathway,
)


def load_protocol_or_404(
    public_id: str,
    *,
    require: Callable[..., bool] = policy.can_view_protocol,
    parents: bool = True,
) -> Protocol:
    """The protocol, its learner, structure and référentiel in one statement, its tutors with
    their accounts in a second one. With parents=False (a write's checks: status, designated
    tutors) the protocol and its tutor designations in one statement; anything else loads on
    first use."""
    if parents:
        options = (
            joinedload(Protocol.learner, innerjoin=True),
            joinedload(Protocol.structure, innerjoin=True),
            joinedload(Protocol.referential, innerjoin=True),
            selectinload(Protocol.tutors).joinedload(ProtocolTutor.tutor, innerjoin=True),
        )
    else:
        options = (joinedload(Protocol.tutors),)
    protocol = (
        get_session()
        .exec(
            select(Protocol)
            .where(Protocol.public_id == public_id, policy.protocol_visible(current_user))
            .options(*options)
        )
        .unique()  # one row per tutor: every row read, so the collection is whole
        .one_or_none()
    )
    if protocol is None:
        abort(404)
    if not require(current_user, protocol):
        abort(403)
    return protocol


# Built once (the tablet's save runs it): what the save checks and writes of the protocol, the
# ids of the competences it targets and whether the actor is one of its designated tutors;
# the row locked FOR NO KEY UPDATE on PostgreSQL. Plain columns, not an entity: the save needs
# nothing else of the protocol, and a form sent back with its messages loads it in full.
_PROTOCOL = Protocol.__table__
_TO_LOG = (
    select(
        _PROTOCOL.c.id,
        _PROTOCOL.c.public_id,
        _PROTOCOL.c.status,
        _PROTOCOL.c.planned_start,
        _PROTOCOL.c.structure_id,
        _PROTOCOL.c.referential_id,
        # the separator as SQL text: given as a string, it would be a bind parameter that
        # SQLAlchemy renders into the statement again at each execution
        select(
            func.aggregate_strings(
                cast(ProtocolCompetence.competence_id, String), literal_column("','")
            )
        )
        .where(ProtocolCompetence.protocol_id == _PROTOCOL.c.id)
        .scalar_subquery()
        .label("scope"),
        exists()
        .where(
            ProtocolTutor.protocol_id == _PROTOCOL.c.id,
            ProtocolTutor.tutor_id == bindparam("actor_id"),
            ProtocolTutor.ended_at.is_(None),
        )
        .label("designated"),
    )
    .where(_PROTOCOL.c.public_id == bindparam("public_id"))
    .with_for_update(of=_PROTOCOL, key_share=True)
)


def load_protocol_to_log(public_id: str) -> tuple[Row, set[int]]:
    """A tablet save's protocol (a row of the columns the save uses: id, public_id, status,
    planned_start, structure_id, referential_id) and the ids of the competences it targets,
    read with whether the actor is a designated tutor in one statement; 404 or 403 as
    load_protocol_or_404 answers them.

    On PostgreSQL the row is locked (FOR NO KEY UPDATE) until the transaction ends: that lock
    guards the protocol's audit chain (afest.core.audit), so the entry the save appends
    needs no other; rows that refer to the protocol can still be inserted meanwhile. The
    statement has no visibility clause: a designated tutor, the only one who may log, sees the
    protocol anyway. Anyone else is answered by load_protocol_or_404.
    """
    session = get_session()
    row = (
        session.connection()
        .execute(_TO_LOG, {"public_id": public_id, "actor_id": current_user.id})
        .one_or_none()
    )
    if row is None or not policy.can_log_sequence_as(current_user, row, designated=row.designated):
        load_protocol_or_404(public_id, require=policy.can_log_sequence, parents=False)
        abort(403)  # not reached: the load above answers 404 or 403
    audit.chain_held(session, row.id)
    return row, {int(c) for c in row.scope.split(",")} if row.scope else set()


def load_evaluation_or_404(
    public_id: str, *, require: Callable[..., bool] = policy.can_view_protocol
) -> tuple[Evaluation, Protocol]:
    """An evaluation and its protocol, within the protocols the actor may see."""
    db = get_session()
    row = db.exec(
        select(Evaluation.public_id, Protocol.public_id)
        .join(Protocol, Protocol.id == Evaluation.protocol_id)
        .where(Evaluation.public_id == public_id, policy.protocol_visible(current_user))
    ).first()
    if row is None:
        abort(404)
    protocol = load_protocol_or_404(row[1], require=require)
    evaluation = db.exec(select(Evaluation).where(Evaluation.public_id == public_id)).one()
    return evaluation, protocol


def load_referential_or_404(
    public_id: str, *, require: Callable[..., bool] = policy.can_view_referential
) -> Referential:
    referential = (
        get_session()
        .exec(
            select(Referential).where(
                Referential.public_id == public_id, policy.referential_visible(current_user)
            )
        )
        .first()
    )
    if referential is None:
        abort(404)
    if not require(current_user, referential):
        abort(403)
    return referential


def load_user_or_404(public_id: str, *, require: Callable[..., bool]) -> User:
    if not policy.can_manage_accounts(current_user):
        abort(404)
    user = get_session().exec(select(User).where(User.public_id == public_id)).first()
    if user is None:
        abort(404)
    if not require(current_user, user):
        abort(403)
    return user


def load_pathway_or_404(
    public_id: str, *, require: Callable[..., bool] = policy.can_view_vae
) -> VaePathway:
    pathway = (
        get_session()
        .exec(
            select(VaePathway).where(
                VaePathway.public_id == public_id, policy.vae_visible(current_user)
            )
        )
        .first()
    )
    if pathway is None:
        abort(404)
    if not require(current_user, pathway):
        abort(403)
    return pathway


def load_learner_or_404(public_id: str) -> User:
    """A learner whose own record is being read: anyone else's answers 404."""
    user = get_session().exec(select(User).where(User.public_id == public_id)).first()
    if user is None or not policy.can_view_learner_record(current_user, user):
        abort(404)
    return user


def load_sequence_or_404(
    public_id: str, *, require: Callable[..., bool] = policy.can_view_protocol
) -> tuple[Sequence, Protocol]:
    """A sequence and its protocol, found only through a protocol the actor may read."""
    row = (
        get_session()
        .exec(
            select(Sequence, Protocol)
            .join(Protocol, Protocol.id == Sequence.protocol_id)
            .where(Sequence.public_id == public_id, policy.protocol_visible(current_user))
            .options(
                selectinload(Protocol.learner),
                selectinload(Protocol.referential),
                selectinload(Protocol.tutors).selectinload(ProtocolTutor.tutor),
            )
        )
        .first()
    )
    if row is None:
        abort(404)
    sequence, protocol = row
    if not require(current_user, protocol):
        abort(403)
    return sequence, protocol


def load_cohort_or_404(public_id: str) -> Cohort:
    """A cohort the actor follows (its dashboard); any other answers 404."""
    cohort = (
        get_session()
        .exec(
            select(Cohort).where(
                Cohort.public_id == public_id, policy.cohort_followed(current_user)
            )
        )
        .first()
    )
    if cohort is None:
        abort(404)
    return cohort


def load_structure_or_404(public_id: str) -> Organisation:
    """A structure whose dashboard drill-down the actor may read; any other answers 404."""
    structure = (
        get_session()
        .exec(
            select(Organisation).where(
                Organisation.public_id == public_id,
                policy.structure_dashboard_visible(current_user),
            )
        )
        .first()
    )
    if structure is None:
        abort(404)
    return structure
