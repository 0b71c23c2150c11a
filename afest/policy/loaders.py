"""Load one object by its public id within the actor's scope, and authorize it, in one call.

An object outside the actor's scope answers 404 (its existence is not revealed); an object in
scope that the actor may not act on answers 403.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload
from sqlmodel import select

from afest import policy
from afest.accounts import members
from afest.core import uploads
from afest.core.database import get_session
from afest.models import (
    Cohort,
    Evaluation,
    Organisation,
    OrgKind,
    OutboxMessage,
    Protocol,
    ProtocolTutor,
    Referential,
    Sequence,
    Upload,
    User,
    VaePathway,
)
from afest.protocols import queries as protocol_queries


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
    options = protocol_queries.with_parents() if parents else (joinedload(Protocol.tutors),)
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


def load_mail_or_404(public_id: str) -> OutboxMessage:
    """A message of the outbox, for whoever may read the outbox; 404 for anyone else."""
    if not policy.can_view_outbox(current_user):
        abort(404)
    query = select(OutboxMessage).where(OutboxMessage.public_id == public_id)
    message = get_session().exec(query).first()
    if message is None:
        abort(404)
    return message


def _structure_or_404(public_id: str, allowed) -> Organisation:
    """The structure of this public id if `allowed(actor, structure_id)`; else 404."""
    structure = (
        get_session()
        .exec(
            select(Organisation).where(
                Organisation.public_id == public_id, Organisation.kind == OrgKind.STRUCTURE
            )
        )
        .first()
    )
    if structure is None or not allowed(current_user, structure.id):
        abort(404)
    return structure


def load_managed_structure_or_404(public_id: str) -> Organisation:
    """A structure whose people the actor runs (its manager, or the admin); any other
    answers 404."""
    return _structure_or_404(public_id, policy.can_manage_people)


def load_costed_structure_or_404(public_id: str) -> Organisation:
    """A structure whose hourly costs and statement of expenses the actor runs: its manager
    (salary costs are not the admin's); any other answers 404."""
    return _structure_or_404(public_id, policy.manages)


# --- organisations (administrators only: anyone else is answered 404) ---------------------


def load_organisation_or_404(public_id: str, *, kinds: tuple[OrgKind, ...]) -> Organisation:
    """An organisation of one of `kinds` (a structure; an OPCO or a support body), for the
    administrator managing it."""
    if not policy.can_manage_organisations(current_user):
        abort(404)
    organisation = (
        get_session()
        .exec(
            select(Organisation).where(
                Organisation.public_id == public_id, Organisation.kind.in_(kinds)
            )
        )
        .first()
    )
    if organisation is None:
        abort(404)
    return organisation


def load_member_or_404(
    public_id: str, member_id: str, *, kinds: tuple[OrgKind, ...]
) -> tuple[Organisation, members.Member]:
    """An OPCO or a support body and one of its members, for the administrator managing
    it; an account holding no role of it answers 404."""
    body = load_organisation_or_404(public_id, kinds=kinds)
    member = members.member_of(get_session(), body, member_id)
    if member is None:
        abort(404)
    return body, member


def load_managed_cohort_or_404(public_id: str) -> Cohort:
    """A cohort, for the administrator managing it."""
    if not policy.can_manage_organisations(current_user):
        abort(404)
    cohort = get_session().exec(select(Cohort).where(Cohort.public_id == public_id)).first()
    if cohort is None:
        abort(404)
    return cohort


def load_upload_or_404(public_id: str, *, purpose: str, require: Callable[..., bool]) -> Upload:
    """A file the actor sent to import and has not confirmed yet (a day at most), when
    `require(actor)` lets them import it; anything else answers 404."""
    if not require(current_user):
        abort(404)
    upload = (
        get_session()
        .exec(
            select(Upload).where(
                Upload.public_id == public_id,
                Upload.purpose == purpose,
                policy.upload_visible(current_user),
                uploads.still_kept(),
            )
        )
        .first()
    )
    if upload is None:
        abort(404)
    return upload
