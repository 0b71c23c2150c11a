"""Writing e-mails to the outbox, in the caller's transaction.

`enqueue` renders a message in its recipient's language and inserts it in the caller's
session: it is committed, or rolled back, with the change that causes it, and a message never
exists for a change that did not happen. Once that transaction commits, the sending job is
asked for (afest.mail.jobs); the job that runs every minute sends whatever is left.

One message per event and recipient: `event_key` names the event ("invitation:42" for the
invitation whose token is 42), and the pair (event_key, address) is unique in the table, so an
event enqueued twice for the same address is written once, even by two transactions at the
same time. A new message for the same person (sending an invitation again) needs a new event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from sqlmodel import Session

from afest.core.database import insert_on_conflict
from afest.core.settings import LOCALES
from afest.models import MailState, OutboxMessage, User, new_public_id, utcnow

# in session.info: this transaction wrote a message (the sending job is asked for once it
# commits)
ENQUEUED = "afest.mail_enqueued"
SUBJECT_MAX = 300

# A User, or (address, full name, locale or None) for someone without an account.
Recipient = User | tuple[str, str, str | None]


def enqueue(
    session: Session,
    *,
    template: str,
    to: Recipient,
    context: Mapping[str, Any],
    event_key: str,
) -> OutboxMessage | None:
    """Render `templates/mail/<template>.subject.txt`, `.txt` and `.html` in the recipient's
    language and write the message in `session` (flushed, not committed).

    `context`: the templates' variables; links in it are absolute (see absolute_url). The
    templates also get `recipient_name`. Answers the new message, or None when this event
    was already enqueued for this address (nothing is written: one message per event and
    recipient)."""
    values = _row(template=template, to=to, context=context, event_key=event_key, now=utcnow())
    session.flush()  # the caller's pending rows first (a user just created, its id)
    insert = (
        insert_on_conflict(session, OutboxMessage)
        .values(values)
        .on_conflict_do_nothing(index_elements=["event_key", "to_address"])
        .returning(OutboxMessage.id)
    )
    new_id = session.execute(insert).scalar_one_or_none()
    if new_id is None:
        return None
    session.info[ENQUEUED] = True
    return session.get(OutboxMessage, new_id)


def enqueue_many(
    session: Session, messages: Iterable[tuple[str, Recipient, Mapping[str, Any], str]]
) -> None:
    """`enqueue` for many messages at once, (template, to, context, event_key) each: rendered
    one by one, written in one INSERT of many rows (an import that invites thousands). An
    event already enqueued for its address is skipped, as `enqueue` does."""
    now = utcnow()
    rows = [
        _row(template=template, to=to, context=context, event_key=event_key, now=now)
        for template, to, context, event_key in messages
    ]
    if not rows:
        return
    session.flush()  # the caller's pending rows first (users just created, their ids)
    insert = insert_on_conflict(session, OutboxMessage).on_conflict_do_nothing(
        index_elements=["event_key", "to_address"]
    )
    session.execute(insert, rows)
    session.info[ENQUEUED] = True


def _row(
    *, template: str, to: Recipient, context: Mapping[str, Any], event_key: str, now
) -> dict[str, Any]:
    """The outbox row of a message, rendered in its recipient's language."""
    address, name, locale = _recipient(to)
    subject, text, html = render(
        template, locale=locale, context={**context, "recipient_name": name}
    )
    return {
        "public_id": new_public_id(),
        "event_key": event_key,
        "to_address": address,
        "to_name": name,
        "user_id": to.id if isinstance(to, User) else None,
        "locale": locale,
        "template": template,
        "message_id": message_id(event_key, address),
        "subject": subject,
        "body_text": text,
        "body_html": html,
        "state": MailState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }


def render(template: str, *, locale: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of a mail template in `locale`. The subject is one
    line; the HTML is autoescaped (a .html template), the text is not."""
    with force_locale(locale):
        subject = render_template(f"mail/{template}.subject.txt", **context)
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    return " ".join(subject.split())[:SUBJECT_MAX], text, html


def absolute_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of `endpoint` on PUBLIC_BASE_URL, in a request or in a job alike.

    Never built on the request's Host header: a forged Host would otherwise put a
    stranger's address in a password-reset link."""
    app = current_app
    base = urlsplit(app.config["PUBLIC_BASE_URL"])
    app.inject_url_defaults(endpoint, values)
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    anchor = values.pop("_anchor", None)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def message_id(event_key: str, address: str) -> str:
    """The Message-ID of the message of an event to an address: the same every time, so that
    a receiving server that sees it twice can tell."""
    digest = hashlib.sha256(f"{event_key}\n{address}".encode()).hexdigest()[:40]
    return f"<{digest}@{sender_domain()}>"


def sender_domain() -> str:
    address = parseaddr(current_app.config["MAIL_SENDER"])[1]
    return address.rpartition("@")[2] or "afest.localhost"


def recipient_locale(locale: str | None) -> str:
    """French unless the person chose English (or the platform's default is English)."""
    if locale:
        language = locale.replace("-", "_").split("_")[0].lower()
        if language in LOCALES:
            return language
    return current_app.config["DEFAULT_LOCALE"]


def _recipient(to: Recipient) -> tuple[str, str, str]:
    """(address, name on one line, locale): nothing in them can add a header."""
    if isinstance(to, User):
        address, name, locale = to.email, to.full_name, to.locale
    else:
        address, name, locale = to
    address = address.strip().lower()
    if "@" not in address or any(c in address for c in '\r\n<>,;"() ') or len(address) > 254:
        raise ValueError(f"not an e-mail address: {address!r}")
    return address, " ".join((name or "").split())[:200], recipient_locale(locale)
