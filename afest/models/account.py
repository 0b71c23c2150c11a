"""People, their accounts, their roles in organisations, and their server-side sessions."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from .base import created_at_field, enum_type, public_id_field
from .enums import Role


class User(SQLModel, table=True):
    """A person with an account; learners, tutors and consultants alike."""

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    # Short PIN a tutor types to sign on a shared tablet; argon2 hash like the password.
    pin_hash: str | None = Field(default=None, max_length=200)
    is_active: bool = True
    locale: str | None = Field(default=None, max_length=5)
    created_at: datetime = created_at_field()
    last_login_at: datetime | None = None
    password_changed_at: datetime | None = None
    # Reminder digests: "daily", "weekly" or "never"; NULL takes the default of the roles
    # (daily for a tutor, weekly for everyone else).
    reminder_frequency: str | None = Field(default=None, max_length=10)

    roles: list["RoleAssignment"] = Relationship(back_populates="user")


class RoleAssignment(SQLModel, table=True):
    """One role of a person, scoped to an organisation (none for admin)."""

    __table_args__ = (sa.UniqueConstraint("user_id", "role", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    role: Role = Field(sa_type=enum_type(Role))
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    created_at: datetime = created_at_field()

    user: "User" = Relationship(back_populates="roles")


class UserSession(SQLModel, table=True):
    """A server-side login session: the cookie holds only its random token.

    Revoking the row (logout, deactivation, password change) makes a copied cookie useless.
    """

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = created_at_field()
    last_seen_at: datetime = created_at_field()
    revoked_at: datetime | None = None
    user_agent: str = Field(default="", max_length=300)


class AccountToken(SQLModel, table=True):
    """A single-use link sent by e-mail: an invitation (choose a password, and a tablet PIN
    for a tutor) or a password reset.

    The link carries a random secret signed with the app's key (itsdangerous); only the
    secret's SHA-256 is stored. Using it, or issuing a newer link of the same purpose, sets
    `used_at`: a link works once.
    """

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    purpose: str = Field(max_length=20)  # invitation | reset
    created_at: datetime = created_at_field()
    expires_at: datetime
    used_at: datetime | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
