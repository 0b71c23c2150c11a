"""The "Rappels et agenda" page, composed for its views: the reminder frequency (with the
default of the person's roles) and, for a tutor or a learner, her calendar address."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from afest import policy
from afest.mail import outbox
from afest.models import User
from afest.todo import feeds, preferences
from afest.todo.forms import ReminderForm


def feed_urls(secret: str) -> dict[str, str]:
    """The address of a feed: https to copy, webcal:// that a tablet opens in its calendar."""
    https = outbox.absolute_url("todo.feed", secret=secret)
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


def reminders_page(
    session: Session, actor, *, form: ReminderForm | None = None, secret: str | None = None
) -> dict[str, Any]:
    """What the page shows: the frequency form (as saved, or `form` back with its messages),
    the roles' default, and the calendar address (its URLs only right after it was made:
    `secret`, as only its hash is kept)."""
    user = session.get(User, actor.id)
    chosen = preferences.frequency_of(user, actor.roles)
    has_calendar = policy.can_have_calendar(actor)
    return {
        "form": form or ReminderForm(current=chosen),
        "default": preferences.LABELS[preferences.default_of(actor.roles)],
        "chosen": user.reminder_frequency is not None,
        "has_calendar": has_calendar,
        "feed": feeds.current(session, user_id=actor.id) if has_calendar else None,
        "urls": feed_urls(secret) if secret and has_calendar else None,
    }
