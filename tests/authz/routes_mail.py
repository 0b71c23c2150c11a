"""Authorization table of the outbox's admin page (Courriels): the admin only; the others get
403 on the page and 404 on a message (its existence is not revealed)."""

from __future__ import annotations

import secrets

from afest.models import MailState, OutboxMessage
from tests.authz import ObjectKind, Route, each


def _failed_message(session, who: str) -> str:
    """A failed message, which the admin may re-send or mark sent."""
    token = secrets.token_hex(6)
    message = OutboxMessage(
        event_key=f"authz:{token}",
        to_address=f"{token}@example.org",
        to_name="Destinataire",
        locale="fr",
        template="test_message",
        message_id=f"<{token}@afest.localhost>",
        subject="Essai",
        body_text="Texte",
        body_html="<p>HTML</p>",
        state=MailState.FAILED,
        attempts=10,
    )
    session.add(message)
    session.commit()
    return message.public_id


OBJECTS = {
    # the outbox belongs to no tenant: no foreign object
    "mail": ObjectKind(in_scope=_failed_message, foreign=lambda session, f: ""),
}

ONLY_ADMIN = each(404, admin=200)

ROUTES = {
    "mail.index": Route("GET", each(403, admin=200), foreign=None),
    "mail.show": Route("GET", ONLY_ADMIN, obj="mail", foreign=None),
    "mail.html_body": Route("GET", ONLY_ADMIN, obj="mail", foreign=None),
    "mail.resend": Route("POST", each(404, admin=302), obj="mail", foreign=None),
    "mail.mark_sent": Route("POST", each(404, admin=302), obj="mail", foreign=None),
    "mail.send_test": Route("POST", each(403, admin=302), foreign=None),
}
