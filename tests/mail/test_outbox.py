"""The outbox: written in the caller's transaction, once per event and recipient, in the
recipient's language."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from afest.mail import outbox
from afest.models import MailState, OutboxMessage, Role


def _count(session, **where) -> int:
    query = select(func.count()).select_from(OutboxMessage)
    for key, value in where.items():
        query = query.where(getattr(OutboxMessage, key) == value)
    return session.exec(query).one()


def _enqueue(session, to, event_key="essai:1", **context):
    return outbox.enqueue(
        session,
        template="test_message",
        to=to,
        context={"requested_by": "Admin", "home_url": "http://x.test/", **context},
        event_key=event_key,
    )


def test_enqueue_renders_in_french_by_default(app, session, make_user):
    user = make_user([(Role.TUTOR, None)], name="Zoé Martin")
    with app.test_request_context():
        message = _enqueue(session, user)
    assert message.state is MailState.PENDING and message.locale == "fr"
    assert message.to_address == user.email and message.user_id == user.id
    assert message.subject == "Courriel d'essai d'afest"
    assert "Bonjour Zoé Martin," in message.body_text
    assert "<p>Bonjour Zoé Martin,</p>" in message.body_html
    assert message.message_id.startswith("<") and message.message_id.endswith("@afest.localhost>")


def test_english_for_who_chose_english(app, session, make_user):
    user = make_user([(Role.TUTOR, None)], name="Sam Doe")
    user.locale = "en"
    with app.test_request_context():
        message = _enqueue(session, user)
    assert message.locale == "en"
    assert message.subject == "afest test e-mail"
    assert (
        "Hello Sam Doe," in message.body_text and "Open afest: http://x.test/" in message.body_text
    )


def test_an_address_without_an_account(app, session):
    with app.app_context():  # no request: a job or a command enqueues too
        message = _enqueue(session, ("Invite@Example.org", "Invitée", "en"))
    assert message.to_address == "invite@example.org" and message.user_id is None
    assert message.locale == "en" and "Hello Invitée," in message.body_text


def test_same_event_twice_is_one_message(app, session, make_user):
    user = make_user([(Role.TUTOR, None)])
    with app.test_request_context():
        first = _enqueue(session, user, event_key="essai:twice")
        second = _enqueue(session, user, event_key="essai:twice")
        other = _enqueue(session, user, event_key="essai:other")
    assert first is not None and second is None and other is not None
    assert _count(session, event_key="essai:twice") == 1
    # the same event for someone else is another message
    with app.test_request_context():
        assert _enqueue(session, ("b@example.org", "B", None), event_key="essai:twice")
    assert _count(session, event_key="essai:twice") == 2


def test_message_id_is_derived_from_event_and_address(app):
    with app.app_context():
        a = outbox.message_id("invitation:1", "a@example.org")
        assert a == outbox.message_id("invitation:1", "a@example.org")
        assert a != outbox.message_id("invitation:2", "a@example.org")
        assert a != outbox.message_id("invitation:1", "b@example.org")


def test_a_rolled_back_transaction_leaves_no_message(app, session, make_user):
    user = make_user([(Role.TUTOR, None)])
    session.commit()
    with app.test_request_context():
        _enqueue(session, user, event_key="essai:rolled-back")
    session.rollback()
    assert _count(session, event_key="essai:rolled-back") == 0


def test_bad_address_is_refused(app, session):
    with app.app_context(), pytest.raises(ValueError):
        _enqueue(session, ("a@b.org\r\nBcc: x@y.org", "X", None))


def test_absolute_url_uses_the_public_base_url(app):
    with app.test_request_context(base_url="http://evil.example/"):
        assert outbox.absolute_url("main.home") == "http://127.0.0.1:5000/"
    with app.app_context():
        assert (
            outbox.absolute_url("auth.login", next="/x")
            == "http://127.0.0.1:5000/connexion?next=/x"
        )
    app.config["PUBLIC_BASE_URL"] = "https://afest.example.org/sub"
    try:
        with app.app_context():
            assert (
                outbox.absolute_url("main.home", _anchor="a") == "https://afest.example.org/sub/#a"
            )
    finally:
        app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
