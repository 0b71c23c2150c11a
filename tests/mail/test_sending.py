"""Sending through a real SMTP server: once, with retries and backoff, never twice."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from afest.core.database import database
from afest.mail import jobs, outbox, sending
from afest.models import MailState, OutboxMessage, Role, utcnow


def _enqueue(app, session, to, event_key, **context):
    with app.test_request_context():
        return outbox.enqueue(
            session,
            template="test_message",
            to=to,
            context={"requested_by": "Admin", "home_url": "http://127.0.0.1:5000/", **context},
            event_key=event_key,
        )


def _fresh(session, message: OutboxMessage) -> OutboxMessage:
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .execution_options(populate_existing=True)
    ).one()


def _commit(app, session) -> None:
    """Commit as a request does, in the app's context: the sending job runs at once (huey's
    immediate mode)."""
    with app.app_context():
        session.commit()


def _send_due(app, *, later: timedelta = timedelta(0)) -> int:
    with app.app_context():
        return sending.send_due(database(app), now=utcnow() + later)


def test_a_committed_message_is_sent_in_french_and_english(app, session, make_user, smtp_server):
    fr = make_user([(Role.TUTOR, None)], name="Zoé Martin")
    en = make_user([(Role.TUTOR, None)], name="Sam Doe")
    en.locale = "en"
    m_fr = _enqueue(app, session, fr, "essai:langs")
    m_en = _enqueue(app, session, en, "essai:langs")
    assert smtp_server.received == []  # nothing leaves before the commit
    _commit(app, session)

    by_to = {m["To"].addresses[0].addr_spec: m for m in smtp_server.received}
    assert set(by_to) == {fr.email, en.email} and len(smtp_server.received) == 2
    french, english = by_to[fr.email], by_to[en.email]
    assert french["Subject"] == "Courriel d'essai d'afest"
    assert french["From"] == "afest <no-reply@afest.localhost>"
    assert french["Message-ID"] == m_fr.message_id
    assert "Bonjour Zoé Martin," in french.get_body(("plain",)).get_content()
    assert "<p>Bonjour Zoé Martin,</p>" in french.get_body(("html",)).get_content()
    assert english["Subject"] == "afest test e-mail"
    assert "Hello Sam Doe," in english.get_body(("plain",)).get_content()
    assert "http://127.0.0.1:5000/" in english.get_body(("html",)).get_content()
    for message in (m_fr, m_en):
        sent = _fresh(session, message)
        assert sent.state is MailState.SENT and sent.attempts == 1 and sent.sent_at is not None


def test_the_same_event_twice_is_sent_once(app, session, make_user, smtp_server):
    user = make_user([(Role.TUTOR, None)])
    assert _enqueue(app, session, user, "essai:once") is not None
    _commit(app, session)
    assert _enqueue(app, session, user, "essai:once") is None
    _commit(app, session)
    _send_due(app, later=timedelta(days=1))
    assert len(smtp_server.received) == 1


def test_a_rolled_back_transaction_sends_nothing(app, session, make_user, smtp_server):
    user = make_user([(Role.TUTOR, None)])
    session.commit()
    _enqueue(app, session, user, "essai:rollback")
    session.rollback()
    _commit(app, session)
    with app.app_context():
        jobs.send_outbox()
    assert smtp_server.received == []


def test_server_down_then_up_sends_once_with_backoff(app, session, make_user, smtp_down):
    user = make_user([(Role.TUTOR, None)])
    message = _enqueue(app, session, user, "essai:outage")
    before = utcnow()
    _commit(app, session)  # the job tries at once: connection refused, nothing raised here

    queued = _fresh(session, message)
    assert queued.state is MailState.PENDING and queued.attempts == 1
    assert "ConnectionRefused" in queued.last_error
    assert (
        before + timedelta(seconds=59) < queued.next_attempt_at <= utcnow() + timedelta(minutes=1)
    )
    assert _send_due(app) == 0  # not due yet

    _send_due(app, later=timedelta(minutes=1))  # second attempt, still down: 2 min now
    queued = _fresh(session, message)
    assert queued.attempts == 2 and queued.next_attempt_at > utcnow() + timedelta(seconds=110)

    smtp_down.start()
    assert _send_due(app, later=timedelta(minutes=3)) == 1
    assert _send_due(app, later=timedelta(hours=5)) == 0
    assert len(smtp_down.received) == 1 and smtp_down.inbox.recipients == [[user.email]]
    sent = _fresh(session, message)
    assert sent.state is MailState.SENT and sent.attempts == 3 and sent.last_error == ""


def test_backoff_doubles_up_to_an_hour():
    assert [sending.backoff(n).total_seconds() / 60 for n in range(1, 10)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
        60,
    ]


def test_after_the_last_attempt_it_is_failed(app, session, make_user, smtp_down, mail_settings):
    mail_settings(MAIL_MAX_ATTEMPTS=2)
    user = make_user([(Role.TUTOR, None)])
    message = _enqueue(app, session, user, "essai:give-up")
    _commit(app, session)
    _send_due(app, later=timedelta(minutes=1))
    failed = _fresh(session, message)
    assert failed.state is MailState.FAILED and failed.attempts == 2
    smtp_down.start()
    assert _send_due(app, later=timedelta(days=1)) == 0 and smtp_down.received == []


def test_a_temporary_refusal_is_retried_a_permanent_one_failed(
    app, session, make_user, smtp_server
):
    user = make_user([(Role.TUTOR, None)])
    smtp_server.inbox.refuse = "451 4.3.0 Try again later"
    later = _enqueue(app, session, user, "essai:451")
    _commit(app, session)
    assert _fresh(session, later).state is MailState.PENDING
    assert _fresh(session, later).last_error.startswith("451")

    smtp_server.inbox.refuse = "554 5.6.0 Content rejected"
    never = _enqueue(app, session, user, "essai:554")
    _commit(app, session)
    refused = _fresh(session, never)
    assert refused.state is MailState.FAILED and refused.last_error.startswith("554")

    smtp_server.inbox.refuse = None
    _send_due(app, later=timedelta(days=1))
    assert _fresh(session, later).state is MailState.SENT
    assert _fresh(session, never).state is MailState.FAILED and len(smtp_server.received) == 1


def test_a_crash_between_sending_and_marking_never_sends_again(
    app, session, make_user, smtp_server, monkeypatch
):
    """The process dies (or the database fails) after the server's 250, before the mark:
    the message stays claimed (sending) and nothing sends it again."""

    def crash(*_args, **_kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(sending, "mark", crash)
    user = make_user([(Role.TUTOR, None)])
    message = _enqueue(app, session, user, "essai:crash")
    _commit(app, session)
    monkeypatch.undo()
    assert len(smtp_server.received) == 1
    left = _fresh(session, message)
    assert left.state is MailState.SENDING and left.attempts == 1 and left.sent_at is None

    assert _send_due(app, later=timedelta(days=30)) == 0  # never picked again
    with app.app_context():
        jobs.send_outbox_every_minute()
    assert len(smtp_server.received) == 1


def test_a_connection_lost_after_the_content_is_left_to_check(
    app, session, make_user, smtp_server, mail_settings
):
    """The server took the content and did not answer in time: it may have been delivered,
    so it is not tried again."""
    mail_settings(SMTP_TIMEOUT=0.3)
    smtp_server.inbox.stall = 1.0
    user = make_user([(Role.TUTOR, None)])
    message = _enqueue(app, session, user, "essai:stall")
    _commit(app, session)
    left = _fresh(session, message)
    assert left.state is MailState.SENDING and "delivery unknown" in left.last_error
    smtp_server.inbox.stall = 0
    assert _send_due(app, later=timedelta(days=1)) == 0
    assert len(smtp_server.received) == 1


def test_two_consumers_cannot_claim_the_same_message(app, session, make_user):
    user = make_user([(Role.TUTOR, None)])
    message = _enqueue(app, session, user, "essai:claim")
    _commit(app, session)
    # (no SMTP configured: the job run by the commit kept it; make it pending again)
    message = _fresh(session, message)
    message.state = MailState.PENDING
    session.add(message)
    session.commit()
    with app.app_context():
        first = sending.claim(database(app), message.id, now=utcnow())
        second = sending.claim(database(app), message.id, now=utcnow())
    assert first is not None and first.state is MailState.SENDING and second is None


def test_without_smtp_messages_are_kept_and_logged(app, session, make_user, caplog):
    user = make_user([(Role.TUTOR, None)])
    link = "http://127.0.0.1:5000/invitation/abc"
    message = _enqueue(app, session, user, "essai:kept", home_url=link)
    with caplog.at_level(logging.INFO, logger="afest.mail.sending"):
        _commit(app, session)
    kept = _fresh(session, message)
    assert kept.state is MailState.KEPT and kept.attempts == 0
    logged = [r.getMessage() for r in caplog.records if r.name == "afest.mail.sending"]
    assert len(logged) == 1
    assert user.email in logged[0] and "Courriel d'essai d'afest" in logged[0] and link in logged[0]
    with caplog.at_level(logging.INFO, logger="afest.mail.sending"):
        assert _send_due(app, later=timedelta(days=1)) == 0  # logged once, never sent


def test_the_minute_job_takes_what_falls_due_before_its_next_run(
    app, session, make_user, smtp_down
):
    """A retry due 20 s after the minute's run is taken by it, not a minute later; one due
    in 40 s waits for the next run."""
    user = make_user([(Role.TUTOR, None)])
    soon = _enqueue(app, session, user, "essai:soon")
    later = _enqueue(app, session, user, "essai:later")
    _commit(app, session)  # server down: both pending, retried in a minute
    smtp_down.start()
    for message, seconds in ((soon, 20), (later, 40)):
        session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(next_attempt_at=utcnow() + timedelta(seconds=seconds))
        )
    session.commit()
    with app.app_context():
        jobs.send_outbox_every_minute.call_local()
    assert _fresh(session, soon).state is MailState.SENT
    assert _fresh(session, later).state is MailState.PENDING
    assert len(smtp_down.received) == 1


def test_a_name_cannot_add_a_header(app, session, smtp_server):
    message = _enqueue(app, session, ("x@example.org", "Eve\r\nBcc: spy@example.org", None), "hdr")
    assert message.to_name == "Eve Bcc: spy@example.org"
    _commit(app, session)
    (received,) = smtp_server.received
    assert received["Bcc"] is None and smtp_server.inbox.recipients == [["x@example.org"]]
    assert _fresh(session, message).state is MailState.SENT


def test_a_message_that_cannot_be_built_fails_without_holding_up_the_others(
    app, session, make_user, smtp_server
):
    user = make_user([(Role.TUTOR, None)])
    broken = _enqueue(app, session, user, "essai:broken")
    fine = _enqueue(app, session, user, "essai:fine")
    session.execute(  # as a template could once have produced: a line break in the subject
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == broken.id)
        .values(subject="Objet\r\nBcc: spy@example.org")
    )
    _commit(app, session)
    assert _fresh(session, broken).state is MailState.FAILED
    assert "cannot be written" in _fresh(session, broken).last_error
    assert _fresh(session, fine).state is MailState.SENT and len(smtp_server.received) == 1


def test_one_run_sends_every_batch(app, session, smtp_down):
    """More messages than a batch: one run sends them all, each once."""
    for n in range(7):
        _enqueue(app, session, (f"p{n}@example.org", f"P {n}", None), "essai:batch")
    _commit(app, session)  # down: all pending for a minute
    smtp_down.start()
    with app.app_context():
        handled = sending.send_due(database(app), now=utcnow() + timedelta(minutes=1), batch=3)
    assert handled == 7 and len(smtp_down.received) == 7
    assert sorted(r[0] for r in smtp_down.inbox.recipients) == sorted(
        f"p{n}@example.org" for n in range(7)
    )
