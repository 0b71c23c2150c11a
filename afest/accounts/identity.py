"""The logged-in actor as flask-login sees it: a user, their roles, and the session token."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_login import AnonymousUserMixin, UserMixin

from afest.models import Role, User


@dataclass(frozen=True)
class Assignment:
    """A role held, within an organisation or not: what the actor needs of a RoleAssignment
    (which has the same two attributes)."""

    role: Role
    organisation_id: int | None


@dataclass(frozen=True)
class UserView:
    """What a request knows of the signed-in user, read with their session: not an entity,
    and none of its secrets. A view that changes the account, or checks a secret, loads the
    user (`get_session().get(User, current_user.id)`)."""

    id: int
    public_id: str
    email: str
    full_name: str
    locale: str | None
    is_active: bool

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(**{name: getattr(user, name) for name in cls.__dataclass_fields__})


@dataclass(eq=False)
class Actor(UserMixin):
    user: UserView
    token: str
    assignments: list[Assignment] = field(default_factory=list)

    def get_id(self) -> str:  # flask-login keeps this in the signed cookie
        return self.token

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def is_active(self) -> bool:
        return self.user.is_active

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(a.role for a in self.assignments)

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    def orgs(self, role: Role) -> frozenset[int]:
        """Organisation ids in which the actor holds `role`."""
        return frozenset(
            a.organisation_id
            for a in self.assignments
            if a.role == role and a.organisation_id is not None
        )


class Anonymous(AnonymousUserMixin):
    roles: frozenset[Role] = frozenset()

    def has(self, *roles: Role) -> bool:
        return False

    def orgs(self, role: Role) -> frozenset[int]:
        return frozenset()
