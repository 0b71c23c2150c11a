"""The admin's Courriels page: the outbox listed and read safely, re-sent, marked sent, and a
test message that never fails the request."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import select

from afest.mail import queries as mail_queries
from afest.models import AuditEntry, MailState, OutboxMessage, Role, User, utcnow

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _message(session, *, state=MailState.FAILED, subject="Essai", body_text="Texte", **values):
    token = secrets.token_hex(6)
    message = OutboxMessage(
        event_key=f"admin-test:{token}",
        to_address=f"{token}@example.org",
        to_name=values.pop("to_name", "Destinataire"),
        locale="fr",
        template="test_message",
        message_id=f"<{token}@afest.localhost>",
        subject=subject,
        body_text=body_text,
        body_html=values.pop("body_html", "<p>Bonjour</p>"),
        state=state,
        attempts=values.pop("attempts", 3),
        **values,
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


def _audit(session, message, action):
    return session.exec(
        select(AuditEntry).where(
            AuditEntry.subject_kind == "outbox_message",
            AuditEntry.subject_id == message.id,
            AuditEntry.action == action,
        )
    ).all()


def test_the_admin_navigation_links_the_page(login_as):
    assert 'href="/admin/courriels"' in login_as(Role.ADMIN).get("/").get_data(as_text=True)
    assert 'href="/admin/courriels"' not in login_as(Role.MANAGER).get("/").get_data(as_text=True)


def test_list_newest_first_filtered_and_paginated(session, login_as, monkeypatch):
    older = _message(session, subject="Plus ancien", state=MailState.SENT)
    newer = _message(session, subject="Plus récent", state=MailState.FAILED)
    admin = login_as(Role.ADMIN)
    page = admin.get("/admin/courriels").get_data(as_text=True)
    assert page.index("Plus récent") < page.index("Plus ancien")
    assert "Aucun serveur SMTP n'est configuré" in page  # the tryout is told

    failed = admin.get("/admin/courriels?etat=failed").get_data(as_text=True)
    assert "Plus récent" in failed and "Plus ancien" not in failed
    assert admin.get("/admin/courriels?etat=nonsense").status_code == 200  # ignored
    for page in ("0", "²", "abc", "9" * 30):  # no such page: the first, the filter kept
        listed = admin.get(f"/admin/courriels?etat=failed&page={page}").get_data(as_text=True)
        assert "Plus récent" in listed and "Plus ancien" not in listed, page

    monkeypatch.setattr(mail_queries, "PAGE_SIZE", 1)
    first = admin.get("/admin/courriels").get_data(as_text=True)
    second = admin.get("/admin/courriels?page=2").get_data(as_text=True)
    assert "Plus récent" in first and "Plus ancien" not in first and "page=2" in first
    assert older.subject in second and newer.subject not in second


def test_the_filter_works_with_csrf_on(session, login_as, app, monkeypatch):
    """A GET filter carries no CSRF token: the state chosen filters all the same."""
    _message(session, subject="Parti", state=MailState.SENT)
    _message(session, subject="Refusé", state=MailState.FAILED)
    admin = login_as(Role.ADMIN)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the suite runs without it
    failed = admin.get("/admin/courriels?etat=failed").get_data(as_text=True)
    assert "Refusé" in failed and "Parti" not in failed


def test_a_message_left_sending_is_shown_to_check(session, login_as):
    _message(
        session, subject="Tout juste", state=MailState.SENDING, attempts=1, claimed_at=utcnow()
    )
    stuck = _message(
        session,
        subject="Resté en route",
        state=MailState.SENDING,
        attempts=1,
        claimed_at=utcnow() - timedelta(minutes=11),
    )
    admin = login_as(Role.ADMIN)
    to_check = admin.get("/admin/courriels?etat=to_check").get_data(as_text=True)
    assert "Resté en route" in to_check and "Tout juste" not in to_check
    page = admin.get(f"/admin/courriels/{stuck.public_id}").get_data(as_text=True)
    assert "À vérifier" in page and "jamais renvoyé automatiquement" in page
    assert "Renvoyer" in page and "Marquer envoyé" in page


def test_hostile_content_is_escaped(session, login_as):
    message = _message(
        session,
        subject=HOSTILE,
        to_name=HOSTILE,
        body_text=f'{HOSTILE}\nhttp://x.test/a"><script>alert(2)</script> javascript:alert(3)',
        body_html=f"<p>{HOSTILE}</p>",
    )
    admin = login_as(Role.ADMIN)
    for url in ("/admin/courriels", f"/admin/courriels/{message.public_id}"):
        page = admin.get(url).get_data(as_text=True)
        assert "<script>" not in page and "<img src=x" not in page, url
        assert "&lt;script&gt;" in page
    page = admin.get(f"/admin/courriels/{message.public_id}").get_data(as_text=True)
    assert '<a href="http://x.test/a" rel="noopener noreferrer">' in page
    assert 'href="javascript' not in page
    assert "<iframe" in page and " sandbox " in page
    # the HTML body is served alone, for the sandboxed frame: no script may run in it
    body = admin.get(f"/admin/courriels/{message.public_id}/html")
    csp = body.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert body.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert body.mimetype == "text/html"


def test_rendered_templates_escape_what_they_are_given(app, session):
    from afest.mail import outbox

    with app.test_request_context():
        message = outbox.enqueue(
            session,
            template="test_message",
            to=("x@example.org", HOSTILE, None),
            context={"requested_by": HOSTILE, "home_url": "http://127.0.0.1:5000/"},
            event_key="admin-test:hostile",
        )
    assert "<script>" not in message.body_html and "&lt;script&gt;" in message.body_html
    assert HOSTILE in message.body_text  # plain text: shown escaped by the page


def test_resend_a_failed_message(app, session, login_as, smtp_server):
    message = _message(session, state=MailState.FAILED, attempts=10, last_error="550 nope")
    admin = login_as(Role.ADMIN)
    response = admin.post(f"/admin/courriels/{message.public_id}/renvoyer")
    assert response.status_code == 302
    sent = _fresh(session, message)
    assert sent.state is MailState.SENT and sent.attempts == 1
    assert len(smtp_server.received) == 1
    (entry,) = _audit(session, message, "mail.resend")
    assert entry.before["state"] == "failed" and entry.after["state"] == "pending"


def test_mark_sent_a_message_to_check(session, login_as):
    stuck = _message(
        session,
        state=MailState.SENDING,
        attempts=1,
        claimed_at=utcnow() - timedelta(hours=1),
    )
    admin = login_as(Role.ADMIN)
    assert admin.post(f"/admin/courriels/{stuck.public_id}/envoye").status_code == 302
    marked = _fresh(session, stuck)
    assert marked.state is MailState.SENT and marked.sent_at is not None
    assert len(_audit(session, stuck, "mail.mark_sent")) == 1


def test_a_message_being_sent_or_sent_cannot_be_resent(session, login_as):
    just_claimed = _message(session, state=MailState.SENDING, attempts=1, claimed_at=utcnow())
    sent = _message(session, state=MailState.SENT, attempts=1)
    admin = login_as(Role.ADMIN)
    for message in (just_claimed, sent):
        for action in ("renvoyer", "envoye"):
            response = admin.post(f"/admin/courriels/{message.public_id}/{action}")
            assert response.status_code == 302
            page = admin.get(response.headers["Location"]).get_data(as_text=True)
            assert "dans son état actuel" in page
        assert _fresh(session, message).state is message.state
        assert not _audit(session, message, "mail.resend")


def test_the_test_message_reaches_the_admin(session, login_as, smtp_server):
    admin = login_as(Role.ADMIN)
    response = admin.post("/admin/courriels/essai")
    assert response.status_code == 302
    (received,) = smtp_server.received
    assert received["To"].addresses[0].addr_spec == "admin@afest.demo"
    assert "Courriel d'essai" in received["Subject"]
    assert "http://127.0.0.1:5000/" in received.get_body(("plain",)).get_content()
    user = session.exec(select(User).where(User.email == "admin@afest.demo")).one()
    message = session.exec(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).one()
    assert message.state is MailState.SENT
    assert len(_audit(session, message, "mail.test_message")) == 1


def test_smtp_down_never_fails_the_request(session, login_as, smtp_down):
    admin = login_as(Role.ADMIN)
    response = admin.post("/admin/courriels/essai")
    assert response.status_code == 302
    assert "envoyé à admin@afest.demo" in admin.get("/admin/courriels").get_data(as_text=True)
    message = session.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == "admin@afest.demo")
    ).one()
    assert message.state is MailState.PENDING and message.attempts == 1
    assert "ConnectionRefused" in message.last_error
