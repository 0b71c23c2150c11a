"""Sending the outbox by SMTP, each message at most once.

For each due message the job (afest.mail.jobs) claims it — pending → sending, a conditional
UPDATE that only one consumer can win, committed before the SMTP conversation — then talks to
the server, then marks the outcome:

- accepted: sent;
- not delivered (server unreachable, timeout, 4xx, refused before the message's content):
  pending again after 1, 2, 4... minutes (1 h at most), and failed after MAIL_MAX_ATTEMPTS;
  refused for good (5xx on the recipient or the content): failed at once;
- unknown (the connection broke after the content was sent, before the server answered),
  or a crash before the mark: the message stays sending. Nothing sends a message in that
  state again by itself — that is what makes "never twice" hold; after UNCONFIRMED_AFTER the
  admin page shows it "à vérifier", and the admin re-sends it or marks it sent.

With no SMTP_HOST nothing is sent: each due message is kept (and logged, with its text body,
for a tryout to follow its links).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from enum import Enum
from typing import Any

from flask import current_app
from sqlalchemy import update
from sqlmodel import select

from afest.core.database import Database
from afest.models import MailState, OutboxMessage, utcnow

log = logging.getLogger(__name__)

UNCONFIRMED_AFTER = timedelta(minutes=10)  # a message sending this long is shown to check
BACKOFF_CAP = timedelta(hours=1)
PERIODIC_AHEAD = timedelta(seconds=30)  # see send_due
BATCH = 100  # message ids read at a time
ERROR_MAX = 500


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # starttls | ssl | none
    user: str
    password: str
    timeout: float
    sender: str

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings | None:
        """The server to send through, or None when SMTP_HOST is empty (keep, do not send)."""
        if not config["SMTP_HOST"]:
            return None
        return cls(
            host=config["SMTP_HOST"],
            port=config["SMTP_PORT"],
            tls=config["SMTP_TLS"],
            user=config["SMTP_USER"],
            password=config["SMTP_PASSWORD"],
            timeout=config["SMTP_TIMEOUT"],
            sender=config["MAIL_SENDER"],
        )


class Outcome(Enum):
    SENT = "sent"
    RETRY = "retry"  # not delivered: try again later
    REFUSED = "refused"  # not delivered, and never will be: failed
    UNKNOWN = "unknown"  # may have been delivered: left to the admin


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4... minutes, 1 h at most."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 16)), BACKOFF_CAP)


def send_due(
    db: Database,
    *,
    now: datetime | None = None,
    ahead: timedelta = timedelta(0),
    batch: int = BATCH,
) -> int:
    """Send (or keep, with no SMTP server) every message due by `now + ahead`, BATCH at a
    time until none is left (an import that invites 5,000 people is sent in one run); answer
    how many were handled. The job that runs every minute looks PERIODIC_AHEAD ahead: a
    retry due a few seconds after its run would otherwise wait a whole minute more."""
    now = now or utcnow()
    due_by = now + ahead
    smtp = SmtpSettings.from_config(current_app.config)
    handled, after = 0, 0
    while True:
        # by id, after the last one seen: a message retried later is not taken again now
        with db.session() as session:
            due = session.exec(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.state == MailState.PENDING,
                    OutboxMessage.next_attempt_at <= due_by,
                    OutboxMessage.id > after,
                )
                .order_by(OutboxMessage.id)
                .limit(batch)
            ).all()
        for message_id in due:
            try:
                if smtp is None:
                    handled += keep(db, message_id)
                else:
                    handled += send_one(db, message_id, smtp, now=now, due_by=due_by)
            except Exception:  # one message's trouble (the database?) holds no other up
                log.exception("mail: message %s could not be handled", message_id)
        if len(due) < batch:
            return handled
        after = due[-1]


def keep(db: Database, message_id: int) -> bool:
    """No SMTP server: the message is kept, and shown once on the console."""
    with db.session(write=True) as session:
        kept = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == MailState.PENDING)
            .values(state=MailState.KEPT)
        )
        if kept.rowcount != 1:
            session.rollback()
            return False
        message = session.get(OutboxMessage, message_id)
        session.commit()
    log.info(
        "mail kept, not sent (no SMTP_HOST): to %s, subject %r\n%s",
        message.to_address,
        message.subject,
        message.body_text,
    )
    return True


def send_one(
    db: Database,
    message_id: int,
    smtp: SmtpSettings,
    *,
    now: datetime,
    due_by: datetime | None = None,
) -> bool:
    """Claim one message, send it, mark the outcome; False if another consumer had it."""
    message = claim(db, message_id, now=now, due_by=due_by)
    if message is None:
        return False
    try:
        email = build(message, smtp.sender)
    except (ValueError, TypeError) as exc:  # a header it cannot carry: never sendable
        outcome, error = Outcome.REFUSED, f"cannot be written as an e-mail: {exc}"
    else:
        outcome, error = deliver(smtp, email)
    try:
        mark(db, message, outcome, error)
    except Exception:  # the database failed after the conversation: left sending, to check
        log.exception("mail %s: %s, but its state could not be saved", message.public_id, outcome)
    return True


def claim(
    db: Database, message_id: int, *, now: datetime, due_by: datetime | None = None
) -> OutboxMessage | None:
    """pending → sending, committed: the message is this consumer's, or None if another one
    took it first (the UPDATE matches no row once it is no longer pending)."""
    with db.session(write=True) as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.state == MailState.PENDING,
                OutboxMessage.next_attempt_at <= (due_by or now),
            )
            .values(state=MailState.SENDING, attempts=OutboxMessage.attempts + 1, claimed_at=now)
        )
        if claimed.rowcount != 1:
            session.rollback()
            return None
        message = session.get(OutboxMessage, message_id, populate_existing=True)
        session.commit()
    return message


def mark(db: Database, message: OutboxMessage, outcome: Outcome, error: str) -> None:
    """Save what the conversation gave, if the message is still this claim's (same state,
    same attempt: an admin may have acted meanwhile)."""
    now = utcnow()
    error = error[:ERROR_MAX]
    if outcome is Outcome.SENT:
        values: dict[str, Any] = {"state": MailState.SENT, "sent_at": now, "last_error": ""}
    elif outcome is Outcome.UNKNOWN:
        values = {"last_error": error}
    elif outcome is Outcome.REFUSED or message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        values = {"state": MailState.FAILED, "last_error": error}
    else:
        values = {
            "state": MailState.PENDING,
            "next_attempt_at": now + backoff(message.attempts),
            "last_error": error,
        }
    with db.session(write=True) as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.state == MailState.SENDING,
                OutboxMessage.attempts == message.attempts,
            )
            .values(**values)
        )
        session.commit()
    level = logging.INFO if outcome is Outcome.SENT else logging.WARNING
    log.log(
        level, "mail %s to %s: %s %s", message.public_id, message.to_address, outcome.value, error
    )


def build(message: OutboxMessage, sender: str) -> EmailMessage:
    """The message as sent: text and HTML alternatives, its own Message-ID."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = formataddr((message.to_name, message.to_address))
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


class _Tracking:
    """Notes when the message's content starts to go out (the server said 354 to DATA):
    a failure after that may come after the server took the message."""

    content_sent = False
    _in_data = False

    def data(self, msg):
        self._in_data = True
        return super().data(msg)

    def getreply(self):
        code, text = super().getreply()
        if self._in_data and code == 354:
            self.content_sent = True
        return code, text


class _Plain(_Tracking, smtplib.SMTP):
    pass


class _Implicit(_Tracking, smtplib.SMTP_SSL):
    pass


def deliver(smtp: SmtpSettings, email: EmailMessage) -> tuple[Outcome, str]:
    """One SMTP conversation: (outcome, error text)."""
    client: _Tracking | None = None
    try:
        if smtp.tls == "ssl":
            client = _Implicit(
                smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
            )
        else:
            client = _Plain(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.tls == "starttls":
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password)
        client.send_message(email, from_addr=parseaddr(smtp.sender)[1])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return _refusal(code, text)
    except smtplib.SMTPAuthenticationError as exc:  # the settings' fault: retried meanwhile
        return Outcome.RETRY, _text(exc.smtp_code, exc.smtp_error)
    except smtplib.SMTPResponseException as exc:  # an answer of the server: not delivered
        return _refusal(exc.smtp_code, exc.smtp_error)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}".strip()
        if client is not None and client.content_sent:
            return Outcome.UNKNOWN, f"delivery unknown, connection lost after the content ({error})"
        return Outcome.RETRY, error
    finally:
        if client is not None:
            _close(client)
    return Outcome.SENT, ""


def _refusal(code: int, text: bytes | str) -> tuple[Outcome, str]:
    return (Outcome.REFUSED if 500 <= code < 600 else Outcome.RETRY), _text(code, text)


def _text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"


def _close(client: smtplib.SMTP) -> None:
    """QUIT, once the outcome is known: whatever happens now changes nothing."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def unconfirmed_before(now: datetime | None = None) -> datetime:
    """Messages claimed before this instant and still sending are shown "à vérifier"."""
    return (now or utcnow()) - UNCONFIRMED_AFTER
