"""Accounts: passwords (argon2), server-side sessions, roles, deactivation."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, update
from sqlmodel import Session, select

from afest.accounts.identity import Assignment, UserView
from afest.core import audit
from afest.core.errors import ServiceError
from afest.models import Role, RoleAssignment, User, UserSession, utcnow

# argon2-cffi's default parameters (RFC 9106, low-memory profile) everywhere but under
# ENV = "testing", where the cheapest parameters keep the suite fast: a hash carries its own
# parameters, so only the hashes made by the test suite are cheap.
_STRONG = PasswordHasher()
_CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)
_dummy_hashes: dict[int, str] = {}
MIN_PASSWORD_LENGTH = 10


def _hasher() -> PasswordHasher:
    testing = has_app_context() and current_app.config.get("ENV") == "testing"
    return _CHEAP if testing else _STRONG


def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when there is no hash (an unknown e-mail, no PIN), so that both
    failures cost what a real check costs."""
    if id(hasher) not in _dummy_hashes:
        _dummy_hashes[id(hasher)] = hasher.hash("afest-no-such-user")
    return _dummy_hashes[id(hasher)]


def hash_secret(secret: str) -> str:
    return _hasher().hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """True when `secret` matches `stored_hash`; the same work when there is no hash."""
    hasher = _hasher()
    try:
        return hasher.verify(stored_hash or _dummy_hash(hasher), secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    actor_id: int | None,
    email: str,
    full_name: str,
    password: str,
    roles: list[tuple[Role, int | None]] = (),
    pin: str | None = None,
    password_hash: str | None = None,
    pin_hash: str | None = None,
) -> User:
    """Create an account with its roles (role, organisation id).

    `password_hash` lets a bulk import reuse a hash computed once (argon2 is slow on purpose).
    """
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise ServiceError(_l("Adresse e-mail invalide."), field="email")
    if password_hash is None and len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            _l("Le mot de passe doit compter au moins %(n)s caractères.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise ServiceError(_l("Un compte existe déjà avec cette adresse."), field="email")
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=password_hash or hash_secret(password),
        pin_hash=pin_hash or (hash_secret(pin) if pin else None),
        password_changed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    for role, organisation_id in roles:
        session.add(
            RoleAssignment(user_id=user.id, role=Role(role), organisation_id=organisation_id)
        )
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="user.create",
        subject_kind="user",
        subject_id=user.id,
        after={"email": email, "roles": [[str(r), o] for r, o in roles]},
    )
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (same answer for both faults)."""
    user = session.exec(select(User).where(User.email == normalise_email(email))).first()
    ok = verify_secret(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    return user


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, *, user: User, user_agent: str = "") -> str:
    """Open a server-side session and return its token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:300],
        )
    )
    user.last_login_at = now
    session.add(user)
    session.flush()
    audit.record(
        session, actor_id=user.id, action="session.start", subject_kind="user", subject_id=user.id
    )
    return token


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


# Built once: every signed-in request runs it. Plain columns, no entity: the request reads
# the user, it does not change them.
_RESOLVE = (
    select(
        *(User.__table__.c[name] for name in UserView.__dataclass_fields__),
        UserSession.id.label("session_id"),
        UserSession.created_at.label("session_created_at"),
        UserSession.last_seen_at,
        UserSession.revoked_at,
        RoleAssignment.role,
        RoleAssignment.organisation_id,
    )
    .select_from(UserSession)
    .join(User, User.id == UserSession.user_id)
    .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .order_by(RoleAssignment.id)
)
_USER_FIELDS = tuple(UserView.__dataclass_fields__)


@dataclass(frozen=True)
class SessionState:
    """What a request needs of its server-side session row."""

    id: int
    created_at: datetime
    last_seen_at: datetime


def resolve_session(
    session: Session, *, token: str, limits: SessionLimits
) -> tuple[UserView, SessionState, list[Assignment]] | None:
    """The user, session and roles behind a cookie token, if still valid (one statement:
    every signed-in request asks)."""
    rows = session.connection().execute(_RESOLVE, {"token_hash": token_hash(token)}).all()
    if not rows:
        return None
    first = rows[0]
    now = utcnow()
    if (
        first.revoked_at is not None
        or not first.is_active
        or now - first.last_seen_at > limits.idle
        or now - first.session_created_at > limits.absolute
    ):
        return None
    return (
        UserView(*(getattr(first, name) for name in _USER_FIELDS)),
        SessionState(first.session_id, first.session_created_at, first.last_seen_at),
        [Assignment(row.role, row.organisation_id) for row in rows if row.role is not None],
    )


def end_session(session: Session, *, token: str) -> None:
    """Revoke one session (logout)."""
    session.exec(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_sessions(session: Session, *, user_id: int) -> None:
    session.exec(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def set_active(session: Session, *, actor_id: int | None, user: User, active: bool) -> None:
    """Deactivate (ending every session at once) or reactivate an account."""
    if user.id == actor_id and not active:
        raise ServiceError(_l("Vous ne pouvez pas désactiver votre propre compte."))
    before = {"is_active": user.is_active}
    user.is_active = active
    session.add(user)
    if not active:
        revoke_all_sessions(session, user_id=user.id)
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="user.activate" if active else "user.deactivate",
        subject_kind="user",
        subject_id=user.id,
        before=before,
        after={"is_active": active},
    )


def change_password(session: Session, *, actor_id: int, current: str, new: str) -> User:
    """Change one's password after checking the current one; every session ends."""
    user = session.get(User, actor_id)
    if not verify_secret(user.password_hash, current):
        raise ServiceError(_l("Mot de passe actuel incorrect."), field="current_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            _l("Le mot de passe doit compter au moins %(n)s caractères.", n=MIN_PASSWORD_LENGTH),
            field="new_password",
        )
    user.password_hash = hash_secret(new)
    user.password_changed_at = utcnow()
    session.add(user)
    revoke_all_sessions(session, user_id=user.id)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="user.password_change",
        subject_kind="user",
        subject_id=user.id,
    )
    return user


def roles_of(session: Session, *, user_id: int) -> list[RoleAssignment]:
    return list(session.exec(select(RoleAssignment).where(RoleAssignment.user_id == user_id)))


def set_locale(session: Session, *, user_id: int, locale: str) -> None:
    """Remember the interface language a user chose (a preference: not audited)."""
    session.exec(update(User).where(User.id == user_id).values(locale=locale))
