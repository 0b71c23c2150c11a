"""The people of a structure: who they are, their roles there, inviting, deactivating.

A manager runs her structure's people (the admin, every structure's): she adds a person with
roles in the structure — a new account is invited by e-mail, an account of the structure
gets the roles —, changes those roles, deactivates and reactivates. An account that also
holds roles elsewhere is not hers to take or to switch off: the admin does that. Every
change is audited with the structure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func
from sqlmodel import Session, select

from afest.accounts import links
from afest.accounts import operations as accounts
from afest.core import audit
from afest.core.errors import ServiceError
from afest.models import (
    Organisation,
    OrgKind,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Role,
    RoleAssignment,
    User,
)

# The roles a person holds within a structure (OPCO advisers, consultants and admins belong
# to other organisations, or to none).
STRUCTURE_ROLES = (Role.LEARNER, Role.TUTOR, Role.MANAGER)
OPEN_STATUSES = (
    ProtocolStatus.DRAFT,
    ProtocolStatus.AWAITING_SIGNATURES,
    ProtocolStatus.IN_PROGRESS,
)


@dataclass(frozen=True)
class Person:
    """A line of the structure's people."""

    user: User
    roles: tuple[Role, ...]  # in this structure, in STRUCTURE_ROLES order
    elsewhere: bool  # holds roles in another organisation too
    tutoring: int  # open protocols she is the current designated tutor of

    @property
    def invited(self) -> bool:
        return not links.has_password(self.user)


def _roles_by_user(session: Session, structure_id: int) -> dict[int, set[Role]]:
    rows = session.exec(
        select(RoleAssignment.user_id, RoleAssignment.role).where(
            RoleAssignment.organisation_id == structure_id
        )
    )
    found: dict[int, set[Role]] = {}
    for user_id, role in rows:
        found.setdefault(user_id, set()).add(Role(role))
    return found


def _ordered(roles: Iterable[Role]) -> tuple[Role, ...]:
    held = set(roles)
    return tuple(r for r in STRUCTURE_ROLES if r in held)


def people_of(session: Session, structure_id: int) -> list[Person]:
    """Everybody with a role in the structure, by name, with what the list shows (four
    statements whatever the number of people)."""
    roles = _roles_by_user(session, structure_id)
    if not roles:
        return []
    ids = list(roles)
    users = session.exec(select(User).where(User.id.in_(ids)).order_by(User.full_name, User.id))
    elsewhere = set(
        session.exec(
            select(RoleAssignment.user_id).where(
                RoleAssignment.user_id.in_(ids),
                (RoleAssignment.organisation_id != structure_id)
                | RoleAssignment.organisation_id.is_(None),
            )
        )
    )
    tutoring = dict(
        session.exec(
            select(ProtocolTutor.tutor_id, func.count())
            .join(Protocol, Protocol.id == ProtocolTutor.protocol_id)
            .where(
                ProtocolTutor.tutor_id.in_(ids),
                ProtocolTutor.ended_at.is_(None),
                Protocol.structure_id == structure_id,
                Protocol.status.in_(OPEN_STATUSES),
            )
            .group_by(ProtocolTutor.tutor_id)
        ).all()
    )
    return [
        Person(
            user=user,
            roles=_ordered(roles[user.id]),
            elsewhere=user.id in elsewhere,
            tutoring=tutoring.get(user.id, 0),
        )
        for user in users
    ]


def person_of(session: Session, structure_id: int, public_id: str) -> Person | None:
    """One person of the structure, or None if she holds no role there."""
    user = session.exec(select(User).where(User.public_id == public_id)).first()
    if user is None:
        return None
    found = [p for p in people_of(session, structure_id) if p.user.id == user.id]
    return found[0] if found else None


def _checked_roles(roles: Iterable[str | Role]) -> tuple[Role, ...]:
    chosen = _ordered(Role(r) for r in roles if r in {s.value for s in STRUCTURE_ROLES})
    if not chosen:
        raise ServiceError(_l("Choisissez au moins un rôle."), field="roles")
    return chosen


def _is_admin(session: Session, actor_id: int | None) -> bool:
    """The admin, or the operator at the console (no actor)."""
    if actor_id is None:
        return True
    held = select(RoleAssignment.id).where(
        RoleAssignment.user_id == actor_id, RoleAssignment.role == Role.ADMIN
    )
    return session.exec(held).first() is not None


def _other_organisations(session: Session, user_id: int, structure_id: int) -> bool:
    return (
        session.exec(
            select(RoleAssignment.id).where(
                RoleAssignment.user_id == user_id,
                (RoleAssignment.organisation_id != structure_id)
                | RoleAssignment.organisation_id.is_(None),
            )
        ).first()
        is not None
    )


def create_invited(
    session: Session,
    *,
    actor_id: int | None,
    email: str,
    full_name: str,
    roles: list[tuple[Role, int | None]],
) -> User:
    """Create the account of someone who has none, with her roles (role, organisation id),
    and invite her: she has no password until she chooses one from the link; audited."""
    user = accounts.create_user(
        session,
        actor_id=actor_id,
        email=email,
        full_name=full_name,
        password="",
        password_hash=links.UNSET_PASSWORD,
        roles=roles,
    )
    user.password_changed_at = None
    session.add(user)
    links.invite(session, actor_id=actor_id, user=user)
    return user


def named_account(session: Session, *, full_name: str, email: str) -> tuple[str, str, User | None]:
    """The name (spaces tidied; an empty one refused beside its field) and the normalised
    address a person is added under, and the account that address already has, if any."""
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise ServiceError(_l("Indiquez le nom de la personne."), field="full_name")
    email = accounts.normalise_email(email or "")
    return full_name, email, session.exec(select(User).where(User.email == email)).first()


def add_person(
    session: Session,
    *,
    actor_id: int | None,
    structure_id: int,
    email: str,
    full_name: str,
    roles: Iterable[str | Role],
) -> tuple[User, bool]:
    """Give someone roles in the structure: a new account is created and invited; an
    existing one gets the roles (an account of another organisation only by the admin).
    Returns the account and whether it was created."""
    chosen = _checked_roles(roles)
    full_name, email, user = named_account(session, full_name=full_name, email=email)
    if user is None:
        roles = [(role, structure_id) for role in chosen]
        return create_invited(
            session, actor_id=actor_id, email=email, full_name=full_name, roles=roles
        ), True
    held = _roles_by_user(session, structure_id).get(user.id, set())
    if held:
        raise ServiceError(
            _l(
                "%(name)s fait déjà partie de la structure : modifiez ses rôles.",
                name=user.full_name,
            ),
            field="email",
        )
    if _other_organisations(session, user.id, structure_id) and not _is_admin(session, actor_id):
        raise ServiceError(
            _l(
                "Cette adresse est celle d'un compte d'une autre organisation : seul "
                "l'administrateur peut lui donner un rôle ici."
            ),
            field="email",
        )
    set_roles(session, actor_id=actor_id, user=user, structure_id=structure_id, roles=chosen)
    if not links.has_password(user):
        links.invite(session, actor_id=actor_id, user=user)
    return user, False


def set_roles(
    session: Session,
    *,
    actor_id: int | None,
    user: User,
    structure_id: int,
    roles: Iterable[str | Role],
) -> User:
    """Set the person's roles within the structure (her roles elsewhere stay)."""
    chosen = set(_checked_roles(roles))
    held = _roles_by_user(session, structure_id).get(user.id, set())
    if user.id == actor_id and Role.MANAGER in held and Role.MANAGER not in chosen:
        raise ServiceError(
            _l("Vous ne pouvez pas retirer votre propre rôle de responsable."), field="roles"
        )
    if Role.TUTOR in held - chosen and _tutoring(session, user.id, structure_id):
        raise ServiceError(
            _l(
                "%(name)s est tuteur·rice désigné·e de protocoles en cours : remplacez-la "
                "d'abord sur ces protocoles.",
                name=user.full_name,
            ),
            field="roles",
        )
    if held == chosen:
        return user
    session.exec(
        delete(RoleAssignment).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.organisation_id == structure_id,
            RoleAssignment.role.in_([r.value for r in held - chosen]),
        )
    )
    for role in _ordered(chosen - held):
        session.add(RoleAssignment(user_id=user.id, role=role, organisation_id=structure_id))
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="user.roles",
        subject_kind="user",
        subject_id=user.id,
        structure_id=structure_id,
        before={"roles": [str(r) for r in _ordered(held)]},
        after={"roles": [str(r) for r in _ordered(chosen)]},
    )
    return user


def _tutoring(session: Session, user_id: int, structure_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(ProtocolTutor)
        .join(Protocol, Protocol.id == ProtocolTutor.protocol_id)
        .where(
            ProtocolTutor.tutor_id == user_id,
            ProtocolTutor.ended_at.is_(None),
            Protocol.structure_id == structure_id,
            Protocol.status.in_(OPEN_STATUSES),
        )
    ).one()


def set_active(
    session: Session, *, actor_id: int | None, user: User, structure_id: int, active: bool
) -> User:
    """Deactivate (every session ends) or reactivate a person of the structure; an account
    that holds roles elsewhere is the admin's to switch."""
    if _other_organisations(session, user.id, structure_id) and not _is_admin(session, actor_id):
        raise ServiceError(
            _l(
                "%(name)s a aussi des rôles dans une autre organisation : demandez à "
                "l'administrateur.",
                name=user.full_name,
            )
        )
    accounts.set_active(session, actor_id=actor_id, user=user, active=active)
    return user


def reinvite(session: Session, *, actor_id: int | None, user: User) -> User:
    """Send a new invitation to a person who has not chosen her password yet."""
    if links.has_password(user):
        raise ServiceError(_l("%(name)s a déjà choisi son mot de passe.", name=user.full_name))
    links.invite(session, actor_id=actor_id, user=user)
    return user


def added_message(user: User, created: bool) -> str:
    """What the manager is told once someone is added."""
    if created:
        return _("Compte créé : une invitation est partie pour %(email)s.", email=user.email)
    return _("%(name)s a maintenant un rôle dans la structure.", name=user.full_name)


def managed_structures(session: Session, actor) -> list[Organisation]:
    """The structures whose people the actor runs: those she manages; every one for the
    admin (by name)."""
    query = select(Organisation).where(Organisation.kind == OrgKind.STRUCTURE)
    if not actor.has(Role.ADMIN):
        query = query.where(Organisation.id.in_(actor.orgs(Role.MANAGER)))
    return list(session.exec(query.order_by(Organisation.name, Organisation.id)))
