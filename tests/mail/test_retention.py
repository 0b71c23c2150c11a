"""Retention of the outbox: the bodies of old messages are emptied by the nightly purge, and
an anonymised account keeps no message."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from afest.accounts.jobs import purge_nightly
from afest.cli import group
from afest.models import MailState, OutboxMessage, Role, User, utcnow


def _message(session, *, state, age_days, sent=False, user_id=None):
    token = secrets.token_hex(6)
    at = utcnow() - timedelta(days=age_days)
    message = OutboxMessage(
        event_key=f"retention:{token}",
        to_address=f"{token}@example.org",
        to_name="Personne",
        user_id=user_id,
        locale="fr",
        template="test_message",
        message_id=f"<{token}@afest.localhost>",
        subject="Invitation",
        body_text="Bonjour Personne, votre lien : http://127.0.0.1:5000/invitation/x",
        body_html="<p>Bonjour Personne</p>",
        state=state,
        created_at=at,
        next_attempt_at=at,
        sent_at=at if sent else None,
    )
    session.add(message)
    session.commit()
    return message


def _fresh(session, message):
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .execution_options(populate_existing=True)
    ).one()


def test_old_bodies_are_emptied_the_rest_kept(app, session, login_as):
    old_sent = _message(session, state=MailState.SENT, age_days=91, sent=True)
    old_kept = _message(session, state=MailState.KEPT, age_days=91)
    recent = _message(session, state=MailState.SENT, age_days=89, sent=True)
    waiting = _message(session, state=MailState.PENDING, age_days=200)

    dry = app.test_cli_runner().invoke(group, ["purge", "--dry-run"], catch_exceptions=False)
    assert "2 mail_bodies" in dry.output
    assert _fresh(session, old_sent).body_text  # a dry run changes nothing

    with app.app_context():
        assert purge_nightly.call_local()["mail_bodies"] == 2
    for message in (old_sent, old_kept):
        purged = _fresh(session, message)
        assert purged.body_text == "" and purged.body_html == "" and purged.purged_at
        assert purged.subject == "Invitation" and purged.state is message.state
    for message in (recent, waiting):
        assert _fresh(session, message).body_text and _fresh(session, message).purged_at is None

    page = login_as(Role.ADMIN).get(f"/admin/courriels/{old_sent.public_id}")
    assert "a été effacé" in page.get_data(as_text=True)


def test_an_anonymised_account_keeps_no_message(app, session, make_user):
    user = make_user([], email="partie@example.org", name="Ancienne Salariée")
    session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(is_active=False, created_at=utcnow() - timedelta(days=365 * 3))
    )
    session.commit()
    message = _message(session, state=MailState.SENT, age_days=5, sent=True, user_id=user.id)
    with app.app_context():
        purge_nightly.call_local()
    assert session.exec(select(OutboxMessage).where(OutboxMessage.id == message.id)).first() is None
