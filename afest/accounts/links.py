"""Links sent by e-mail: invitations (choose a password, and a tablet PIN for a tutor) and
password resets.

A link carries a random secret signed with the app's key (itsdangerous), so that a link
altered by hand is told apart from one that never existed; the database keeps only the
secret's SHA-256, the link's purpose, its expiry and when it was used. A link works once:
using it, or sending a newer one of the same purpose, ends it. Using a link ends every other
session of the account. The e-mail is written to the outbox in the transaction that makes
the link, so a link is never sent for a change that was rolled back.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import insert, update
from sqlmodel import Session, select

from afest.accounts import operations as accounts
from afest.core import audit
from afest.core.errors import ServiceError
from afest.mail import outbox
from afest.models import AccountToken, Role, User, utcnow

INVITATION = "invitation"
RESET = "reset"
PURPOSES = (INVITATION, RESET)
UNSET_PASSWORD = "!"  # noqa: S105 - no argon2 hash: nothing verifies against it
PIN_LENGTHS = (4, 8)


class LinkRefused(Exception):
    """A link that cannot be used: `reason` is tampered, unknown, expired or used."""

    def __init__(self, reason: str, *, purpose: str, expired_at: datetime | None = None):
        super().__init__(reason)
        self.reason = reason
        self.purpose = purpose
        self.expired_at = expired_at


@dataclass(frozen=True)
class Link:
    """A usable link: its row and the account it opens."""

    token: AccountToken
    user: User

    @property
    def wants_pin(self) -> bool:
        return self.token.purpose == INVITATION and is_tutor(self.user)


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"afest-link-{purpose}")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def lifetime(purpose: str) -> timedelta:
    if purpose == INVITATION:
        return timedelta(days=current_app.config["INVITATION_DAYS"])
    return timedelta(minutes=current_app.config["RESET_MINUTES"])


def is_tutor(user: User) -> bool:
    return any(assignment.role == Role.TUTOR for assignment in user.roles)


def has_password(user: User) -> bool:
    """Whether the person ever chose a password (an invited person has not yet)."""
    return user.password_hash != UNSET_PASSWORD


def issue(
    session: Session, *, user: User, purpose: str, actor_id: int | None
) -> tuple[AccountToken, str]:
    """Make a link of `purpose` for `user`: its row and its signed value; older unused links
    of the same purpose end."""
    assert purpose in PURPOSES
    now = utcnow()
    session.exec(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    secret = secrets.token_urlsafe(32)
    token = AccountToken(
        token_hash=_digest(secret),
        user_id=user.id,
        purpose=purpose,
        created_at=now,
        expires_at=now + lifetime(purpose),
        created_by_id=actor_id,
    )
    session.add(token)
    session.flush()
    return token, _serializer(purpose).dumps(secret)


def resolve(session: Session, *, value: str, purpose: str) -> Link:
    """The link behind `value`, if it can still be used; else LinkRefused says why."""
    try:
        secret = _serializer(purpose).loads(value)
    except BadSignature:
        raise LinkRefused("tampered", purpose=purpose) from None
    if not isinstance(secret, str):
        raise LinkRefused("tampered", purpose=purpose)
    token = session.exec(
        select(AccountToken).where(
            AccountToken.token_hash == _digest(secret), AccountToken.purpose == purpose
        )
    ).first()
    user = session.get(User, token.user_id) if token is not None else None
    if token is None or user is None or not user.is_active:
        raise LinkRefused("unknown", purpose=purpose)
    if token.used_at is not None:
        raise LinkRefused("used", purpose=purpose)
    if utcnow() >= token.expires_at:
        raise LinkRefused("expired", purpose=purpose, expired_at=token.expires_at)
    return Link(token=token, user=user)


def _send(session: Session, *, user: User, purpose: str, actor_id: int | None) -> None:
    """Write the link's e-mail to the outbox, in this transaction."""
    token, value = issue(session, user=user, purpose=purpose, actor_id=actor_id)
    inviter = session.get(User, actor_id) if actor_id else None
    template, context = _mail(
        user=user,
        purpose=purpose,
        value=value,
        inviter=inviter,
        wants_pin=purpose == INVITATION and is_tutor(user),
    )
    outbox.enqueue(
        session, template=template, to=user, context=context, event_key=f"link:{token.id}"
    )


def _mail(
    *, user: User, purpose: str, value: str, inviter: User | None, wants_pin: bool
) -> tuple[str, dict]:
    """The template and context of a link's e-mail."""
    endpoint = "auth.accept_invitation" if purpose == INVITATION else "auth.reset_password"
    context = {
        "user": user,
        "url": outbox.absolute_url(endpoint, value=value),
        "inviter": inviter.full_name if inviter else None,
        "days": current_app.config["INVITATION_DAYS"],
        "minutes": current_app.config["RESET_MINUTES"],
        "wants_pin": wants_pin,
    }
    return ("invitation" if purpose == INVITATION else "password_reset"), context


def invite(session: Session, *, actor_id: int | None, user: User) -> None:
    """Send `user` an invitation link (a new one ends the previous); audited."""
    if not user.is_active:
        raise ServiceError(_l("Ce compte est désactivé : réactivez-le avant de l'inviter."))
    _send(session, user=user, purpose=INVITATION, actor_id=actor_id)
    audit.record(
        session, actor_id=actor_id, action="user.invite", subject_kind="user", subject_id=user.id
    )


def invite_many(
    session: Session, *, actor_id: int | None, users: Sequence[User], tutor_ids: Collection[int]
) -> None:
    """Send each of `users` (active accounts) an invitation, as `invite` does one by one, in
    a number of statements that does not grow with them but for the e-mails themselves: a
    whole import's new accounts at once. `tutor_ids`: who among them is a tutor (asked for a
    tablet PIN), as their roles may not be loaded; audited."""
    if not users:
        return
    if not all(user.is_active for user in users):
        raise ServiceError(_l("Ce compte est désactivé : réactivez-le avant de l'inviter."))
    now = utcnow()
    ids = [user.id for user in users]
    for start in range(0, len(ids), 500):
        session.exec(
            update(AccountToken)
            .where(
                AccountToken.user_id.in_(ids[start : start + 500]),
                AccountToken.purpose == INVITATION,
                AccountToken.used_at.is_(None),
            )
            .values(used_at=now)
        )
    made = [(user, secrets.token_urlsafe(32)) for user in users]
    token_ids = session.scalars(
        insert(AccountToken).returning(AccountToken.id, sort_by_parameter_order=True),
        [
            {
                "token_hash": _digest(secret),
                "user_id": user.id,
                "purpose": INVITATION,
                "created_at": now,
                "expires_at": now + lifetime(INVITATION),
                "created_by_id": actor_id,
            }
            for user, secret in made
        ],
    ).all()
    inviter = session.get(User, actor_id) if actor_id else None
    serializer = _serializer(INVITATION)
    messages = []
    for (user, secret), token_id in zip(made, token_ids, strict=True):
        template, context = _mail(
            user=user,
            purpose=INVITATION,
            value=serializer.dumps(secret),
            inviter=inviter,
            wants_pin=user.id in tutor_ids,
        )
        messages.append((template, user, context, f"link:{token_id}"))
    outbox.enqueue_many(session, messages)
    audit.record_many(
        session,
        [
            {"actor_id": actor_id, "action": "user.invite", "subject_kind": "user", "subject_id": i}
            for i in ids
        ],
    )


def request_reset(session: Session, *, email: str) -> None:
    """Send a reset link to the active account of `email`, if there is one; nothing is said
    either way (the page answers the same)."""
    user = session.exec(
        select(User).where(User.email == accounts.normalise_email(email), User.is_active)
    ).first()
    if user is None:
        return
    _send(session, user=user, purpose=RESET, actor_id=None)
    audit.record(
        session,
        actor_id=None,
        action="user.reset_request",
        subject_kind="user",
        subject_id=user.id,
    )


def check_pin(pin: str) -> None:
    """A tablet PIN: 4 to 8 digits, not one digit repeated nor a run such as 1234."""
    low, high = PIN_LENGTHS
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise ServiceError(
            _l("Le code doit compter de %(low)d à %(high)d chiffres.", low=low, high=high),
            field="pin",
        )
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if len(set(pin)) == 1 or steps in ({1}, {-1}):
        raise ServiceError(
            _l("Ce code est trop facile à deviner (%(pin)s) : choisissez-en un autre.", pin=pin),
            field="pin",
        )


def _set_secrets(session: Session, *, user: User, password: str, pin: str | None) -> None:
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        raise ServiceError(
            _l(
                "Le mot de passe doit compter au moins %(n)s caractères.",
                n=accounts.MIN_PASSWORD_LENGTH,
            ),
            field="password",
        )
    if pin is not None:
        check_pin(pin)
        user.pin_hash = accounts.hash_secret(pin)
    user.password_hash = accounts.hash_secret(password)
    user.password_changed_at = utcnow()
    session.add(user)
    # every link of the account ends with it, and so does every session
    session.exec(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    accounts.revoke_all_sessions(session, user_id=user.id)


def use(
    session: Session, *, value: str, purpose: str, password: str, pin: str | None = None
) -> User:
    """Follow a link: choose the password (and, invited as a tutor, the tablet PIN); the
    link and every other session of the account end. Returns the account, to sign in."""
    link = resolve(session, value=value, purpose=purpose)
    if link.wants_pin and pin is None:
        raise ServiceError(_l("Choisissez votre code de tablette."), field="pin")
    user = link.user
    _set_secrets(session, user=user, password=password, pin=pin if link.wants_pin else None)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="user.invitation_accept" if purpose == INVITATION else "user.password_reset",
        subject_kind="user",
        subject_id=user.id,
        after={"pin": True} if link.wants_pin else None,
    )
    return user


def change_pin(session: Session, *, actor_id: int, password: str, pin: str) -> User:
    """A signed-in tutor chooses a new tablet PIN, confirming with her password."""
    user = session.get(User, actor_id)
    if not accounts.verify_secret(user.password_hash, password):
        raise ServiceError(_l("Mot de passe incorrect."), field="password")
    check_pin(pin)
    user.pin_hash = accounts.hash_secret(pin)
    session.add(user)
    session.flush()
    audit.record(
        session, actor_id=user.id, action="user.pin_change", subject_kind="user", subject_id=user.id
    )
    return user
