"""What the admin does with the outbox: re-send a message, mark one sent, send herself a test
message. Each writes an audit entry."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import Session

from afest.core import audit
from afest.core.errors import ServiceError
from afest.mail import outbox, queries
from afest.models import MailState, OutboxMessage, User, utcnow

SUBJECT_KIND = "outbox_message"


def _moved(session: Session, message: OutboxMessage, **values) -> None:
    """Change a message as the admin saw it; refused if the job changed it meanwhile."""
    changed = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.state == message.state,
            OutboxMessage.attempts == message.attempts,
        )
        .values(**values)
    )
    if changed.rowcount != 1:
        raise ServiceError(_l("Ce courriel a changé entre-temps : rechargez la page."))


def _trace(message: OutboxMessage) -> dict:
    return {
        "state": message.state,
        "attempts": message.attempts,
        "to": message.to_address,
        "event_key": message.event_key,
    }


def resend(session: Session, *, actor_id: int, message: OutboxMessage) -> OutboxMessage:
    """Send a failed, kept or unconfirmed message again: pending now, its attempts counted
    from zero. For one to check, the admin has made sure it did not arrive."""
    if not queries.actions(message).resend:
        raise ServiceError(_l("Ce courriel ne peut pas être renvoyé dans son état actuel."))
    before = _trace(message)
    _moved(session, message, state=MailState.PENDING, attempts=0, next_attempt_at=utcnow())
    session.refresh(message)
    audit.record(
        session,
        actor_id=actor_id,
        action="mail.resend",
        subject_kind=SUBJECT_KIND,
        subject_id=message.id,
        before=before,
        after=_trace(message),
    )
    session.info[outbox.ENQUEUED] = True  # the sending job runs once this commits
    return message


def mark_sent(session: Session, *, actor_id: int, message: OutboxMessage) -> OutboxMessage:
    """The admin knows a failed or unconfirmed message arrived: sent, never tried again."""
    if not queries.actions(message).mark_sent:
        raise ServiceError(_l("Ce courriel ne peut pas être marqué envoyé dans son état actuel."))
    before = _trace(message)
    _moved(session, message, state=MailState.SENT, sent_at=utcnow())
    session.refresh(message)
    audit.record(
        session,
        actor_id=actor_id,
        action="mail.mark_sent",
        subject_kind=SUBJECT_KIND,
        subject_id=message.id,
        before=before,
        after=_trace(message),
    )
    return message


def send_test_message(session: Session, *, actor_id: int, to: User) -> OutboxMessage:
    """A test message to the admin herself, through the same outbox and job as any other:
    it shows whether the SMTP settings work."""
    message = outbox.enqueue(
        session,
        template="test_message",
        to=to,
        context={"requested_by": to.full_name, "home_url": outbox.absolute_url("main.home")},
        event_key=f"test_message:{to.id}:{secrets.token_hex(8)}",
    )
    audit.record(
        session,
        actor_id=actor_id,
        action="mail.test_message",
        subject_kind=SUBJECT_KIND,
        subject_id=message.id,
        after=_trace(message),
    )
    return message
