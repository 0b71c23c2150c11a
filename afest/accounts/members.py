"""The members of an OPCO or a support body, for the administrator: an OPCO's advisers, a
support body's consultants.

A member holds the body's role there: an adviser (Role.OPCO at the OPCO) reads the OPCO's
dashboard, a consultant (Role.CONSULTANT at the support body) follows the cohorts that list
her. The administrator adds one by name and e-mail: someone without an account gets one
and an invitation by e-mail, as a structure's new person does (afest.accounts.people);
an existing account — which may hold roles elsewhere: a consultant in two bodies, a
manager who also advises for an OPCO — gets the role, and an invitation if she has not
chosen her password yet. Removing a member takes her role there away and nothing else,
but a consultant who then holds the role nowhere stops following her cohorts. Every
change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlmodel import Session, select

from afest.accounts import links, people
from afest.core import audit
from afest.core.errors import ServiceError
from afest.models import Cohort, CohortConsultant, Organisation, OrgKind, Role, RoleAssignment, User

# the role a member holds at each kind of body
MEMBER_ROLES = {OrgKind.OPCO: Role.OPCO, OrgKind.SUPPORT_BODY: Role.CONSULTANT}
INVITED, ACTIVE, DEACTIVATED = "invited", "active", "deactivated"


@dataclass(frozen=True)
class Member:
    """A line of a body's members."""

    user: User
    elsewhere: tuple[tuple[Role, str | None], ...]  # her other roles: (role, organisation)
    cohorts: tuple[Cohort, ...]  # the cohorts she follows (a consultant)

    @property
    def state(self) -> str:
        if not self.user.is_active:
            return DEACTIVATED
        return ACTIVE if links.has_password(self.user) else INVITED


def role_of(body: Organisation) -> Role:
    """The role a member holds at `body` (ServiceError if it is no OPCO nor support body)."""
    if body.kind not in MEMBER_ROLES:
        raise ServiceError(_l("Seuls un OPCO et un organisme d'accompagnement ont des membres."))
    return MEMBER_ROLES[body.kind]


def members_of(session: Session, body: Organisation) -> list[Member]:
    """Everybody holding the body's role there, by name, with her roles elsewhere and the
    cohorts she follows (three statements whatever the number of members)."""
    role = role_of(body)
    users = session.exec(
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == role, RoleAssignment.organisation_id == body.id)
        .order_by(User.full_name, User.id)
    ).all()
    if not users:
        return []
    ids = [user.id for user in users]
    elsewhere: dict[int, list[tuple[Role, str | None]]] = {}
    for user_id, held, org_id, name in session.exec(
        select(
            RoleAssignment.user_id,
            RoleAssignment.role,
            RoleAssignment.organisation_id,
            Organisation.name,
        )
        .outerjoin(Organisation, Organisation.id == RoleAssignment.organisation_id)
        .where(RoleAssignment.user_id.in_(ids))
        .order_by(RoleAssignment.user_id, RoleAssignment.role, Organisation.name)
    ):
        if (held, org_id) != (role, body.id):
            elsewhere.setdefault(user_id, []).append((Role(held), name))
    followed: dict[int, list[Cohort]] = {}
    for user_id, cohort in session.exec(
        select(CohortConsultant.user_id, Cohort)
        .join(Cohort, Cohort.id == CohortConsultant.cohort_id)
        .where(CohortConsultant.user_id.in_(ids))
        .order_by(Cohort.code)
    ):
        followed.setdefault(user_id, []).append(cohort)
    return [
        Member(
            user=user,
            elsewhere=tuple(elsewhere.get(user.id, ())),
            cohorts=tuple(followed.get(user.id, ())),
        )
        for user in users
    ]


def member_of(session: Session, body: Organisation, public_id: str) -> Member | None:
    """One member of the body, or None if the account holds no role of it."""
    found = [m for m in members_of(session, body) if m.user.public_id == public_id]
    return found[0] if found else None


def _holds(session: Session, user_id: int, role: Role, organisation_id: int | None) -> bool:
    query = select(RoleAssignment.id).where(
        RoleAssignment.user_id == user_id, RoleAssignment.role == role
    )
    if organisation_id is not None:
        query = query.where(RoleAssignment.organisation_id == organisation_id)
    return session.exec(query).first() is not None


def _record_roles(session: Session, actor_id, user: User, body: Organisation, before, after):
    audit.record(
        session,
        actor_id=actor_id,
        action="user.roles",
        subject_kind="user",
        subject_id=user.id,
        before={"organisation_id": body.id, "roles": before},
        after={"organisation_id": body.id, "roles": after},
    )


def add_member(
    session: Session,
    *,
    actor_id: int | None,
    body: Organisation,
    email: str,
    full_name: str,
) -> tuple[User, bool]:
    """Make someone a member of the body: a new account is created and invited; an
    existing one gets the role (and an invitation if she has no password yet). Returns the
    account and whether it was created."""
    role = role_of(body)
    full_name, email, user = people.named_account(session, full_name=full_name, email=email)
    if user is None:
        created = people.create_invited(
            session, actor_id=actor_id, email=email, full_name=full_name, roles=[(role, body.id)]
        )
        return created, True
    if _holds(session, user.id, role, body.id):
        raise ServiceError(
            _l("%(name)s est déjà membre de « %(body)s ».", name=user.full_name, body=body.name),
            field="email",
        )
    if not user.is_active:
        raise ServiceError(
            _l(
                "Le compte de %(name)s est désactivé : réactivez-le (page Comptes) avant de "
                "l'ajouter.",
                name=user.full_name,
            ),
            field="email",
        )
    session.add(RoleAssignment(user_id=user.id, role=role, organisation_id=body.id))
    session.flush()
    _record_roles(session, actor_id, user, body, [], [str(role)])
    if not links.has_password(user):
        links.invite(session, actor_id=actor_id, user=user)
    return user, False


def remove_member(
    session: Session, *, actor_id: int | None, body: Organisation, user: User
) -> User:
    """Take the body's role away from the account (her roles elsewhere stay); a consultant
    who holds the role nowhere any more stops following her cohorts."""
    role = role_of(body)
    if not _holds(session, user.id, role, body.id):
        raise ServiceError(
            _l("%(name)s n'est pas membre de « %(body)s ».", name=user.full_name, body=body.name)
        )
    session.execute(
        delete(RoleAssignment).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == role,
            RoleAssignment.organisation_id == body.id,
        )
    )
    session.flush()
    _record_roles(session, actor_id, user, body, [str(role)], [])
    if role == Role.CONSULTANT and not _holds(session, user.id, Role.CONSULTANT, None):
        _stop_following(session, actor_id, user)
    return user


def _stop_following(session: Session, actor_id: int | None, user: User) -> None:
    followed = sorted(
        session.exec(select(CohortConsultant.cohort_id).where(CohortConsultant.user_id == user.id))
    )
    if not followed:
        return
    session.execute(delete(CohortConsultant).where(CohortConsultant.user_id == user.id))
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="user.cohorts",
        subject_kind="user",
        subject_id=user.id,
        before={"cohort_ids": followed},
        after={"cohort_ids": []},
    )


def added_message(body: Organisation, user: User, created: bool) -> str:
    """What the administrator is told once a member is added."""
    if created:
        return _("Compte créé : une invitation est partie pour %(email)s.", email=user.email)
    if not links.has_password(user):
        return _(
            "%(name)s est maintenant membre de « %(body)s » : une invitation est partie pour "
            "%(email)s.",
            name=user.full_name,
            body=body.name,
            email=user.email,
        )
    return _("%(name)s est maintenant membre de « %(body)s ».", name=user.full_name, body=body.name)


def removed_message(body: Organisation, user: User) -> str:
    return _("%(name)s n'est plus membre de « %(body)s ».", name=user.full_name, body=body.name)
