"""The "Rappels et agenda" page: the reminder frequency chosen and audited (the default of
the roles when none is chosen), and the calendar address made, shown once, renewed and
revoked, the old address answering 404 at once."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from afest.models import AuditEntry, CalendarFeed, Role, User
from afest.todo.preferences import DAILY, NEVER, WEEKLY, default_of, frequency_of

PAGE = "/compte/rappels"


def audit_of(session, user_id: int, action: str) -> list[AuditEntry]:
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.actor_id == user_id, AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
    )


def reload(session, user: User) -> User:
    session.expire_all()
    return session.get(User, user.id)


@pytest.mark.parametrize(
    ("roles", "default"),
    [
        ([Role.TUTOR], DAILY),
        ([Role.TUTOR, Role.MANAGER], DAILY),
        ([Role.LEARNER], WEEKLY),
        ([Role.MANAGER], WEEKLY),
        ([Role.CONSULTANT], WEEKLY),
        ([Role.OPCO], NEVER),  # her summary is hers to ask for
        ([Role.OPCO, Role.CONSULTANT], WEEKLY),
        ([], WEEKLY),
    ],
)
def test_the_default_frequency_follows_the_roles(roles, default):
    assert default_of(roles) == default
    assert frequency_of(User(email="x", full_name="x", password_hash="!"), roles) == default
    chosen = User(email="x", full_name="x", password_hash="!", reminder_frequency=WEEKLY)
    assert frequency_of(chosen, roles) == WEEKLY


def test_the_page_shows_the_roles_default(make_user, login_as):
    tutor = make_user([(Role.TUTOR, None)], name="Tutrice Défaut")
    page = login_as(tutor.email).get(PAGE).get_data(as_text=True)
    assert "rythme par défaut de votre rôle, quotidien" in page
    assert re.search(r"<input checked[^>]*value=\"daily\"", page)


def test_a_chosen_frequency_is_saved_and_audited(session, make_user, login_as):
    learner = make_user([(Role.LEARNER, None)], name="Apprenante Choix")
    client = login_as(learner.email)
    response = client.post(PAGE, data={"frequency": NEVER})
    assert response.status_code == 302 and response.location.endswith(PAGE)
    assert reload(session, learner).reminder_frequency == NEVER
    (entry,) = audit_of(session, learner.id, "user.reminder_frequency")
    assert entry.before == {"reminder_frequency": None}
    assert entry.after == {"reminder_frequency": NEVER}
    page = client.get(PAGE).get_data(as_text=True)
    assert "Votre choix de rappels est enregistré." in page
    assert re.search(r"<input checked[^>]*value=\"never\"", page)
    assert "Par défaut pour votre rôle : hebdomadaire." in page


def test_saving_the_default_unchanged_keeps_following_the_roles(session, make_user, login_as):
    learner = make_user([(Role.LEARNER, None)], name="Apprenante Défaut")
    assert login_as(learner.email).post(PAGE, data={"frequency": WEEKLY}).status_code == 302
    assert reload(session, learner).reminder_frequency is None
    assert audit_of(session, learner.id, "user.reminder_frequency") == []


@pytest.mark.parametrize("data", [{}, {"frequency": "hourly"}, {"frequency": ""}])
def test_a_bad_frequency_is_refused_beside_the_field(session, make_user, login_as, data):
    learner = make_user([(Role.LEARNER, None)], name="Apprenante Erreur")
    response = login_as(learner.email).post(PAGE, data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        'id="frequency-error"' in page
        and 'aria-describedby="frequency-hint frequency-error"' in page
    )
    assert reload(session, learner).reminder_frequency is None


def feed_urls(page: str) -> tuple[str, str]:
    webcal = re.search(r'href="(webcal://[^"]+)"', page).group(1)
    https = re.search(r'id="feed-url" value="([^"]+)"', page).group(1)
    return webcal, https


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_the_address_is_made_shown_once_renewed_and_revoked(app, session, make_user, login_as):
    tutor = make_user([(Role.TUTOR, None)], name="Tutrice Agenda")
    client = login_as(tutor.email)
    assert "Créer mon adresse d'agenda" in client.get(PAGE).get_data(as_text=True)

    made = client.post("/compte/agenda")
    assert made.status_code == 302 and made.location.endswith(PAGE + "#agenda")
    webcal, https = feed_urls(client.get(PAGE).get_data(as_text=True))
    assert https.startswith("http://127.0.0.1:5000/agenda/") and https.endswith(".ics")
    assert webcal == "webcal://" + https.split("://", 1)[1]
    first = path_of(https)
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 200
    again = client.get(PAGE).get_data(as_text=True)
    assert "feed-url" not in again and "renouvelez-la" in again  # shown once only
    secret = first.removeprefix("/agenda/").removesuffix(".ics")
    stored = session.exec(select(CalendarFeed.token_hash).where(CalendarFeed.user_id == tutor.id))
    assert secret not in stored.one()  # only its hash is kept

    assert client.post("/compte/agenda/renouveler").status_code == 302
    _webcal, renewed = feed_urls(client.get(PAGE).get_data(as_text=True))
    assert renewed != https
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(path_of(renewed)).status_code == 200

    assert client.post("/compte/agenda/revoquer").status_code == 302
    assert anonymous.get(path_of(renewed)).status_code == 404
    assert "Créer mon adresse d'agenda" in client.get(PAGE).get_data(as_text=True)
    actions = [e.action for e in audit_of(session, tutor.id, "calendar_feed.create")]
    actions += [e.action for e in audit_of(session, tutor.id, "calendar_feed.renew")]
    actions += [e.action for e in audit_of(session, tutor.id, "calendar_feed.revoke")]
    assert actions == ["calendar_feed.create", "calendar_feed.renew", "calendar_feed.revoke"]


def test_a_second_address_or_nothing_to_revoke_is_refused(session, make_user, login_as):
    learner = make_user([(Role.LEARNER, None)], name="Apprenante Deux")
    client = login_as(learner.email)
    assert client.post("/compte/agenda/revoquer").status_code == 302
    assert "pas d&#39;adresse d&#39;agenda à révoquer" in client.get(PAGE).get_data(as_text=True)
    client.post("/compte/agenda")
    client.get(PAGE)
    client.post("/compte/agenda")
    assert "déjà une adresse" in client.get(PAGE).get_data(as_text=True).replace("&#39;", "'")
    feeds = session.exec(select(CalendarFeed).where(CalendarFeed.user_id == learner.id)).all()
    assert len(feeds) == 1 and feeds[0].revoked_at is None


def test_who_has_no_calendar_sees_only_the_reminders(make_user, login_as):
    manager = make_user([(Role.MANAGER, None)], name="Direction Sans Agenda")
    client = login_as(manager.email)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'name="frequency"' in page and "/compte/agenda" not in page
    assert client.post("/compte/agenda").status_code == 403


def test_the_page_is_linked_beside_the_password(login_as):
    page = login_as(Role.OPCO).get("/").get_data(as_text=True)
    assert f'href="{PAGE}"' in page
