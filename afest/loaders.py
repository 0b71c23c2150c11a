"""Load one object by its public id within the actor's scope, and authorize it, in one call.

An object outside the actor's scope answers 404 (its existence is not revealed); an object in
scope that the actor may not act on answers 403.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort
from flask_login import current_user
from sqlalchemy.orm import selectinload
from sqlmodel import select

from afest import policy
from afest.db import get_session
from afest.models import Protocol, ProtocolTutor, User


def load_protocol_or_404(
    public_id: str, *, require: Callable[..., bool] = policy.can_view_protocol
) -> Protocol:
    protocol = (
        get_session()
        .exec(
            select(Protocol)
            .where(Protocol.public_id == public_id, policy.protocol_visible(current_user))
            .options(
                selectinload(Protocol.learner),
                selectinload(Protocol.structure),
                selectinload(Protocol.referential),
                selectinload(Protocol.tutors).selectinload(ProtocolTutor.tutor),
            )
        )
        .first()
    )
    if protocol is None:
        abort(404)
    if not require(current_user, protocol):
        abort(403)
    return protocol


def load_user_or_404(public_id: str, *, require: Callable[..., bool]) -> User:
    if not policy.can_manage_accounts(current_user):
        abort(404)
    user = get_session().exec(select(User).where(User.public_id == public_id)).first()
    if user is None:
        abort(404)
    if not require(current_user, user):
        abort(403)
    return user
