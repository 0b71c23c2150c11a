"""A person's private calendar address: made, renewed, revoked, and found again from the
secret in its URL.

The URL carries a random secret (`secrets.token_urlsafe`, 256 bits); the database keeps only
its SHA-256, as for the e-mailed links (afest.accounts.links), so the address cannot be shown
again once its page is left: a person who lost it renews it. Renewing revokes the previous
address at once. Finding the owner of a secret is one lookup by its hash, whatever the secret
is (unknown, revoked or malformed all take the same path and answer None).
"""

from __future__ import annotations

import hashlib
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import Session, select

from afest import policy
from afest.core import audit
from afest.core.errors import ServiceError
from afest.models import CalendarFeed, RoleAssignment, User, utcnow

SECRET_BYTES = 32


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def owner_of(session: Session, *, secret: str) -> User | None:
    """The active account whose current calendar address carries `secret`, else None."""
    return session.exec(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(
            CalendarFeed.token_hash == _digest(secret),
            CalendarFeed.revoked_at.is_(None),
            User.is_active,
        )
    ).first()


def current(session: Session, *, user_id: int) -> CalendarFeed | None:
    """The person's calendar address still in use, if she has one."""
    return session.exec(
        select(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.created_at.desc(), CalendarFeed.id.desc())
    ).first()


def _require_feed_role(session: Session, user_id: int) -> None:
    held = session.exec(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == user_id, RoleAssignment.role.in_(policy.CALENDAR_ROLES)
        )
    ).first()
    if held is None:
        raise ServiceError(_l("Seuls les tuteur·rices et les apprenant·es ont un agenda."))


def _revoke_all(session: Session, user_id: int) -> list[int]:
    """End every address of the person still in use; their ids."""
    ids = list(
        session.exec(
            select(CalendarFeed.id).where(
                CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None)
            )
        )
    )
    if ids:
        session.exec(
            update(CalendarFeed).where(CalendarFeed.id.in_(ids)).values(revoked_at=utcnow())
        )
    return ids


def _make(session: Session, user_id: int) -> tuple[CalendarFeed, str]:
    secret = secrets.token_urlsafe(SECRET_BYTES)
    feed = CalendarFeed(token_hash=_digest(secret), user_id=user_id, created_at=utcnow())
    session.add(feed)
    session.flush()
    return feed, secret


def _audit(session: Session, *, actor_id: int, action: str, feed_id: int, **after) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        action=action,
        subject_kind="calendar_feed",
        subject_id=feed_id,
        after=after or None,
    )


def create(session: Session, *, actor_id: int) -> str:
    """Give the signed-in tutor or learner a calendar address; its secret, to show once."""
    _require_feed_role(session, actor_id)
    if current(session, user_id=actor_id) is not None:
        raise ServiceError(
            _l("Vous avez déjà une adresse d'agenda : renouvelez-la pour en obtenir une autre.")
        )
    feed, secret = _make(session, actor_id)
    _audit(session, actor_id=actor_id, action="calendar_feed.create", feed_id=feed.id)
    return secret


def renew(session: Session, *, actor_id: int) -> str:
    """Replace the person's calendar address: the old one stops answering at once; the new
    secret, to show once."""
    _require_feed_role(session, actor_id)
    revoked = _revoke_all(session, actor_id)
    if not revoked:
        raise ServiceError(_l("Vous n'avez pas d'adresse d'agenda à renouveler."))
    feed, secret = _make(session, actor_id)
    _audit(
        session, actor_id=actor_id, action="calendar_feed.renew", feed_id=feed.id, revoked=revoked
    )
    return secret


def revoke(session: Session, *, actor_id: int) -> None:
    """End the person's calendar address: her calendar app gets nothing from it any more."""
    revoked = _revoke_all(session, actor_id)
    if not revoked:
        raise ServiceError(_l("Vous n'avez pas d'adresse d'agenda à révoquer."))
    for feed_id in revoked:
        _audit(session, actor_id=actor_id, action="calendar_feed.revoke", feed_id=feed_id)
