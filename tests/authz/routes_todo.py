"""Authorization table of Rappels et agenda: every signed-in person chooses her reminders;
tutors and learners have a calendar address. The feed itself needs no login: its secret is
the key, so it answers whoever holds a secret in use, and 404 once the secret is revoked."""

from __future__ import annotations

from sqlmodel import select

from afest.models import User
from afest.todo import feeds
from tests.authz import ROLE_EMAILS, ObjectKind, Route, each


def _secret(session, *, revoked: bool) -> dict[str, str]:
    """A new calendar address of the demo tutor (revoked if asked): the URL's secret."""
    tutor = session.exec(select(User).where(User.email == ROLE_EMAILS["tutor"])).one()
    if feeds.current(session, user_id=tutor.id) is not None:
        feeds.revoke(session, actor_id=tutor.id)
    secret = feeds.create(session, actor_id=tutor.id)
    if revoked:
        feeds.revoke(session, actor_id=tutor.id)
    session.commit()
    return {"secret": secret}


OBJECTS = {
    "calendar_feed": ObjectKind(
        in_scope=lambda session, who: _secret(session, revoked=False),
        # "another tenant" of a secret: one revoked, which answers nothing any more
        foreign=lambda session, factories: _secret(session, revoked=True),
    ),
}

FEED_HOLDERS = each(403, tutor=302, learner=302)

ROUTES = {
    "todo.feed": Route("GET", each(200, anon=200), obj="calendar_feed", foreign=404),
    "todo.reminders": Route("GET", each(200), foreign=None),
    "todo.create_feed": Route("POST", FEED_HOLDERS, foreign=None),
    "todo.renew_feed": Route("POST", FEED_HOLDERS, foreign=None),
    "todo.revoke_feed": Route("POST", FEED_HOLDERS, foreign=None),
}
