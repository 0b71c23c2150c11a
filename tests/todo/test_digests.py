"""Reminder digests on a clock the test moves: who gets one, when, with what, in which
language, once per period; the SMTP server of the suite receives exactly those."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy import event
from sqlmodel import select

from afest.core.database import database
from afest.mail import outbox
from afest.models import Organisation, OutboxMessage, ReminderDigest, User, utcnow
from afest.todo import digests
from afest.todo.items import Kind, waiting
from tests.learner_factories import sign, situation, targeted
from tests.mail import conftest as mail_fixtures

# the test SMTP server of tests/mail, and the mail settings pointed at it
mail_settings = mail_fixtures.mail_settings
smtp_server = mail_fixtures.smtp_server

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 07:00 in Paris, the job's hour
TUESDAY = MONDAY + timedelta(days=1)
NEXT_MONDAY = MONDAY + timedelta(days=7)


@pytest.fixture(autouse=True)
def _only_the_tests_people(session):
    """The demo's people are reminded "never" for the test, so that what the SMTP server
    receives is only the digests of the people each test makes."""
    session.execute(sa.update(User).values(reminder_frequency="never"))
    session.commit()


def run(app, at: datetime) -> digests.Sent:
    """The morning job at `at`, in an app context (the sending job runs after each commit)."""
    with time_machine.travel(at, tick=False), app.app_context():
        return digests.run(database(app), now=utcnow())


def inbox(server) -> dict[str, list]:
    """The messages received, by recipient address."""
    by_to: dict[str, list] = {}
    for message in server.received:
        by_to.setdefault(message["To"].addresses[0].addr_spec, []).append(message)
    return by_to


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def digest_keys(session, user) -> dict[str, list[str]]:
    rows = session.exec(
        select(ReminderDigest.period, ReminderDigest.items)
        .where(ReminderDigest.user_id == user.id)
        .execution_options(populate_existing=True)
    )
    return dict(rows.all())


def awaiting_signatures(make_protocol, at: datetime = MONDAY, **options):
    """A protocol submitted for signature: its learner and tutor must sign it, its manager
    waits for them."""
    with time_machine.travel(at - timedelta(days=1), tick=False):
        return make_protocol(stage="submitted", **options)


def test_each_due_person_receives_one_digest_in_her_language(
    app, session, make_protocol, smtp_server
):
    protocol, people = awaiting_signatures(make_protocol)
    people["learner"].locale = "en"
    session.commit()
    sent = run(app, MONDAY)

    by_to = inbox(smtp_server)
    expected = {p.email for p in people.values()}
    assert set(by_to) == expected and len(smtp_server.received) == 3
    assert sent.digests == 3
    learner_mail = by_to[people["learner"].email][0]
    assert learner_mail["Subject"].startswith("afest: 1 thing to do")
    body = text_of(learner_mail)
    assert body.startswith(f"Hello {people['learner'].full_name},")
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    with app.app_context():
        preferences = outbox.absolute_url(digests.PREFERENCES_ENDPOINT)
    assert (
        preferences in body
        and f'<a href="{preferences}"' in learner_mail.get_body(("html",)).get_content()
    )
    tutor_mail = by_to[people["tutor"].email][0]  # no locale: French
    assert tutor_mail["Subject"].startswith("afest : ") and "à faire" in tutor_mail["Subject"]
    assert text_of(tutor_mail).startswith(f"Bonjour {people['tutor'].full_name},")
    # each digest announces what waits for its person, as waiting() says, one link each
    with time_machine.travel(MONDAY, tick=False), app.app_context():
        waits = waiting(session, people=[p.id for p in people.values()], now=utcnow())
    for person in people.values():
        mailed = [i for i in waits[person.id] if digests.mailed(i, today=MONDAY.date(), zone=PARIS)]
        (period,) = digest_keys(session, person)
        assert digest_keys(session, person)[period] == [i.key for i in mailed]
        text = text_of(by_to[person.email][0])
        links = [line.strip() for line in text.splitlines() if line.strip().startswith(base)]
        assert len(links) == len(mailed) + 1  # + the preferences page
    learner_keys = next(iter(digest_keys(session, people["learner"]).values()))
    assert f"{Kind.SIGN_PROTOCOL}:{protocol.public_id}" in learner_keys
    # the digest points at its outbox message
    row = session.exec(
        select(ReminderDigest).where(ReminderDigest.user_id == people["learner"].id)
    ).one()
    message = session.get(OutboxMessage, row.message_id)
    assert message.user_id == people["learner"].id and message.locale == "en"


def test_once_per_period_then_again_in_the_next_one(app, session, make_protocol, smtp_server):
    _, people = awaiting_signatures(make_protocol)
    tutor, learner = people["tutor"], people["learner"]
    run(app, MONDAY)
    assert len(smtp_server.received) == 3
    again = run(app, MONDAY + timedelta(hours=3))  # the same day: nothing more
    assert again.digests == 0 and len(smtp_server.received) == 3

    run(app, TUESDAY)  # the tutor is reminded daily, the others weekly (on Mondays)
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.received[3:]] == [tutor.email]
    assert set(digest_keys(session, tutor)) == {"2026-12-07", "2026-12-08"}
    assert set(digest_keys(session, learner)) == {"2026-W50"}

    run(app, NEXT_MONDAY)  # still waiting: the weekly ones again
    assert {m["To"].addresses[0].addr_spec for m in smtp_server.received[4:]} == {
        p.email for p in people.values()
    }
    assert set(digest_keys(session, learner)) == {"2026-W50", "2026-W51"}


def test_never_nothing_waiting_and_deactivated_get_nothing(
    app, session, make_protocol, make_user, smtp_server
):
    _, people = awaiting_signatures(make_protocol)
    people["tutor"].reminder_frequency = "never"
    people["manager"].is_active = False
    idle = make_user([], name="Personne Sans Rien")
    idle.reminder_frequency = "daily"
    session.commit()
    sent = run(app, MONDAY)
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.received] == [
        people["learner"].email
    ]
    assert sent.digests == 1
    for quiet in (people["tutor"], people["manager"], idle):
        assert digest_keys(session, quiet) == {}


def test_an_item_announced_in_the_week_is_not_repeated_in_its_days(
    app, session, make_protocol, smtp_server
):
    _, people = awaiting_signatures(make_protocol)
    learner = people["learner"]
    run(app, MONDAY)  # her weekly digest
    learner.reminder_frequency = "daily"
    session.commit()
    run(app, TUESDAY)  # daily now, but what she was told this week is not told again
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.received[3:]] == [
        people["tutor"].email
    ]
    assert set(digest_keys(session, learner)) == {"2026-W50"}
    run(app, NEXT_MONDAY + timedelta(days=1))  # another week: told again, daily
    assert set(digest_keys(session, learner)) == {"2026-W50", "2026-12-15"}


def test_the_query_count_does_not_grow_with_people(app, session, connection, make_protocol):
    def queries(count: int) -> tuple[int, int]:
        made = [awaiting_signatures(make_protocol) for _ in range(count)]
        ids = [p.id for _, people in made for p in people.values()]
        statements: list[str] = []

        def seen(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        event.listen(connection, "before_cursor_execute", seen)
        try:
            with time_machine.travel(MONDAY, tick=False), app.app_context():
                sent = digests.send_due(session, now=utcnow(), people=ids)
        finally:
            event.remove(connection, "before_cursor_execute", seen)
        session.rollback()
        return len(statements), sent.digests

    one, sent_one = queries(1)
    twenty, sent_twenty = queries(20)
    assert (sent_one, sent_twenty) == (3, 60)
    assert twenty == one, (one, twenty)


def test_the_links_open_their_screen_after_login(app, session, make_protocol, smtp_server):
    from tests.conftest import PASSWORD

    _, people = awaiting_signatures(make_protocol)
    run(app, MONDAY)
    (mail,) = inbox(smtp_server)[people["learner"].email]
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    links = [ln.strip() for ln in text_of(mail).splitlines() if ln.strip().startswith(base)]
    target = urlsplit(links[0])
    path = target.path + (f"?{target.query}" if target.query else "")
    client = app.test_client()
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        first = client.get(path)
        assert first.status_code == 302
        login_page = urlsplit(first.headers["Location"])
        assert login_page.path == "/connexion"
        signed_in = client.post(
            first.headers["Location"],
            data={"email": people["learner"].email, "password": PASSWORD},
        )
        assert signed_in.status_code == 302 and signed_in.headers["Location"] == path
        assert client.get(path).status_code == 200


def test_the_job_runs_at_seven_in_the_platform_time_zone():
    from afest.todo.jobs import local_time

    morning = local_time(7, 0, zone=lambda: PARIS)
    # huey hands the schedule naive UTC timestamps
    assert morning(datetime(2026, 12, 7, 6, 0))  # winter: UTC+1
    assert not morning(datetime(2026, 12, 7, 7, 0))
    assert morning(datetime(2026, 7, 6, 5, 0))  # summer: UTC+2
    assert not morning(datetime(2026, 7, 6, 6, 0))


def test_the_operators_command(app, session, make_protocol, smtp_server):
    _, people = awaiting_signatures(make_protocol)
    runner = app.test_cli_runner()
    with time_machine.travel(MONDAY + timedelta(hours=5), tick=False):
        result = runner.invoke(args=["afest", "send-reminders", "--at", "2026-12-07T07:00"])
        assert result.exit_code == 0, result.output
        assert "3 digests" in result.output and "2026-W50" in result.output
        again = runner.invoke(args=["afest", "send-reminders", "--at", "2026-12-07T09:00"])
        assert "0 digests" in again.output
        bad = runner.invoke(args=["afest", "send-reminders", "--at", "lundi"])
    assert bad.exit_code == 2 and "not an ISO 8601" in bad.output
    assert len(smtp_server.received) == 3


def test_a_long_list_is_cut_and_counted(app, session, make_protocol, smtp_server, monkeypatch):
    monkeypatch.setattr(digests, "SHOWN", 1)
    first, people = awaiting_signatures(make_protocol)
    # a second protocol of the same structure: its managers wait for both
    awaiting_signatures(make_protocol, structure=session.get(Organisation, first.structure_id))
    run(app, MONDAY)
    (mail,) = inbox(smtp_server)[people["manager"].email]
    (keys,) = digest_keys(session, people["manager"]).values()
    assert len(keys) == 1
    assert "Et 1 autre chose vous attend sur votre page d'accueil" in text_of(mail)
    assert mail["Subject"].startswith("afest : 2 choses à faire")


def in_progress_with_a_situation(session, make_protocol, *, at: datetime, countersigned=True):
    """A protocol in progress whose tutor logged (and signed) a situation at `at`, its
    reflexive sequence not written yet."""
    with time_machine.travel(at - timedelta(days=1), tick=False):
        protocol, people = make_protocol()
    with time_machine.travel(at + timedelta(minutes=5), tick=False):
        comps = [pc.competence_id for pc in targeted(session, protocol)]
        seq = situation(session, protocol, people, at=at, competence_ids=comps[:1])
        sign(session, protocol, people, seq, learner=countersigned)
        session.commit()
    return protocol, people, seq


def test_a_reflexive_sequence_is_announced_two_days_before_its_window_closes(
    app, session, make_protocol, smtp_server
):
    # logged on Monday at 14:00 in Paris: its window closes the next Monday at 14:00
    _, people, seq = in_progress_with_a_situation(
        session, make_protocol, at=MONDAY + timedelta(hours=7)
    )
    tutor = people["tutor"]
    for quiet in (people["learner"], people["manager"]):
        quiet.reminder_frequency = "never"
    session.commit()
    for day in range(1, 5):  # Tuesday to Friday, 07:00: more than two days left
        run(app, MONDAY + timedelta(days=day))
    assert smtp_server.received == [] and digest_keys(session, tutor) == {}
    run(app, MONDAY + timedelta(days=5))  # Saturday morning: the window closes on Monday
    (mail,) = inbox(smtp_server)[tutor.email]
    assert digest_keys(session, tutor) == {"2026-12-12": [f"{Kind.REFLECTION_DUE}:{seq.public_id}"]}
    assert "/tablette/" in text_of(mail)


def test_a_paused_protocol_sends_nothing(app, session, make_protocol, smtp_server):
    from afest.protocols import pausing

    # a situation ten days ago, not analysed, the learner's countersignature awaited
    protocol, people, _ = in_progress_with_a_situation(
        session, make_protocol, at=MONDAY - timedelta(days=10), countersigned=False
    )
    run(app, MONDAY)
    assert {people["tutor"].email, people["learner"].email} <= set(inbox(smtp_server))
    before = len(smtp_server.received)
    with time_machine.travel(TUESDAY + timedelta(hours=3), tick=False), app.app_context():
        pausing.pause(
            session,
            actor_id=people["manager"].id,
            protocol=protocol,
            paused_from=TUESDAY.date(),
            planned_until=None,
            reason="Arrêt maladie de l'apprenante",
        )
        session.commit()
    for at in (TUESDAY + timedelta(days=1), NEXT_MONDAY):
        run(app, at)
    assert smtp_server.received[before:] == []
