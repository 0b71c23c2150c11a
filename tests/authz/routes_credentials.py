"""Authorization table of the badges: a learner's own, her issuer's, the public checks."""

from __future__ import annotations

import uuid

from sqlmodel import select

from afest.models import IssuedCredential, Role, RoleAssignment, User
from tests.authz import ROLE_EMAILS, ObjectKind, Route, each
from tests.authz.routes_learner import NOBODY_BUT_THE_LEARNER


def _badge(session, learner: User, structure_id: int) -> str:
    """A badge of the learner issued by the structure (its JWT need not verify here)."""
    row = IssuedCredential(
        uuid=str(uuid.uuid4()),
        learner_id=learner.id,
        issuer_id=structure_id,
        kind="participation",
        source_kind="protocol",
        source_id=uuid.uuid4().int % 1_000_000_000,  # one row each time it is asked for
        title="AFEST",
        issued_by_id=learner.id,
        jwt="e30.e30.sig",
    )
    session.add(row)
    session.commit()
    return row.public_id


def _in_scope(session, who: str) -> str:
    """A badge of the demo learner, issued by her structure (the demo manager's)."""
    learner = session.exec(select(User).where(User.email == ROLE_EMAILS["learner"])).one()
    structure_id = session.exec(
        select(RoleAssignment.organisation_id).where(
            RoleAssignment.user_id == learner.id, RoleAssignment.role == Role.LEARNER
        )
    ).first()
    return _badge(session, learner, structure_id)


def _foreign(session, factories) -> str:
    structure = factories.make_structure()
    learner = factories.make_user([(Role.LEARNER, structure.id)])
    return _badge(session, learner, structure.id)


OBJECTS = {"badge": ObjectKind(in_scope=_in_scope, foreign=_foreign)}

READERS = each(404, learner=200, manager=200, admin=200)
PUBLIC = each(200, anon=200)
# another tenant's badge: found by the administrators only
ADMIN_ONLY = each(404, admin=200)

ROUTES = {
    "credentials.mine": Route("GET", NOBODY_BUT_THE_LEARNER, obj="learner"),
    # an empty form: the learner is told to choose one
    "credentials.issue": Route("POST", each(404, learner=422), obj="learner"),
    "credentials.show": Route("GET", READERS, obj="badge", foreign=ADMIN_ONLY),
    "credentials.download": Route("GET", READERS, obj="badge", foreign=ADMIN_ONLY),
    "credentials.revoke": Route(
        "POST",
        each(404, learner=403, manager=422, admin=422),
        obj="badge",
        foreign=each(404, admin=422),
    ),
    "credentials.revocations": Route("GET", PUBLIC, foreign=None),
    "credentials.jwks": Route("GET", PUBLIC, foreign=None),
    "credentials.verify_page": Route("GET", PUBLIC, foreign=None),
    "credentials.verify_json": Route("POST", each(422, anon=422), foreign=None),
}
