"""The private calendar feed, read as a calendar app reads it: what a tutor's and a learner's
feed holds (and nothing of another structure), stable UIDs, the person's language, the
answer's headers, and a number of queries that does not grow with the protocols."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from icalendar import Calendar
from sqlalchemy import event

from afest.assessments import evaluations
from afest.core.database import database
from afest.models import (
    EvaluationKind,
    ProtocolPause,
    ProtocolTutor,
    SequenceKind,
    SignerRole,
    utcnow,
)
from afest.protocols import drafting
from afest.protocols import operations as protocols
from afest.todo import feeds
from tests.learner_factories import levels, reflection, situation, targeted

START = date(2026, 3, 2)
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PLAN = [
    (SequenceKind.SITUATION, date(2026, 3, 5), "Toilette au lit", 90),
    (SequenceKind.REFLECTION, date(2026, 3, 6), "Retour sur la toilette", 45),
]


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def signed_protocol(session, make_protocol, structure=None, plan=PLAN):
    """A protocol in progress since START with `plan`, signed by its three parties."""
    protocol, people = make_protocol(structure=structure, stage="draft", start=START)
    drafting.add_planned_sequences(
        session, actor_id=people["manager"].id, protocol=protocol, items=plan
    )
    protocols.submit_for_signature(session, actor_id=people["manager"].id, protocol=protocol)
    for role, who in (
        (SignerRole.STRUCTURE, "manager"),
        (SignerRole.TUTOR, "tutor"),
        (SignerRole.LEARNER, "learner"),
    ):
        protocols.sign_protocol(
            session, actor_id=people[who].id, protocol=protocol, role=role, method="password"
        )
    session.commit()
    return protocol, people


def with_history(session, protocol, people):
    """A situation analysed (no deadline), one not analysed on 8 March (due 15 March), and an
    intermediate evaluation on 9 March."""
    comps = [pc.competence_id for pc in targeted(session, protocol)]
    scale = levels(session, protocol)
    done = situation(session, protocol, people, at=at(3), competence_ids=comps[:1])
    reflection(
        session,
        protocol,
        people,
        at=at(4),
        situation_ids=[done.id],
        levels_by_comp={comps[0]: scale[1].id},
    )
    pending = situation(session, protocol, people, at=at(8), competence_ids=comps[:1])
    evaluation = evaluations.create_evaluation(
        session,
        actor_id=people["tutor"].id,
        protocol=protocol,
        client_id=f"cal-eval-{protocol.id}",
        kind=EvaluationKind.INTERMEDIATE,
        evaluated_on=date(2026, 3, 9),
        summary="Point d'étape",
        levels={comps[0]: scale[1].id},
    )
    session.commit()
    return done, pending, evaluation


@pytest.fixture()
def scene(app, session, make_protocol):
    """A tutor's protocol with its history, and a protocol of another structure."""
    with time_machine.travel(NOW, tick=False), app.app_context():
        protocol, people = signed_protocol(session, make_protocol)
        done, pending, evaluation = with_history(session, protocol, people)
        foreign, strangers = signed_protocol(session, make_protocol)
        with_history(session, foreign, strangers)
    return protocol, people, pending, evaluation


def secret_for(app, session, user) -> str:
    with app.app_context():
        secret = feeds.create(session, actor_id=user.id)
    session.commit()
    return secret


def read(client, secret: str, when: datetime = NOW):
    with time_machine.travel(when, tick=False):
        return client.get(f"/agenda/{secret}.ics")


def events(response) -> dict[str, tuple]:
    """UID → (summary, start) of each event of a feed."""
    calendar = Calendar.from_ical(response.data)
    return {str(e["UID"]): (str(e["SUMMARY"]), e.start) for e in calendar.walk("VEVENT")}


def expected(protocol, pending, evaluation, name: str | None) -> dict[str, tuple]:
    host = "127.0.0.1"
    plan_ids = sorted(p.id for p in protocol.plan)

    def who(text: str) -> str:
        return f"{name} — {text}" if name else text

    return {
        f"planned-{protocol.public_id}-{plan_ids[0]}@{host}": (
            who("Toilette au lit (Mise en situation)"),
            date(2026, 3, 5),
        ),
        f"planned-{protocol.public_id}-{plan_ids[1]}@{host}": (
            who("Retour sur la toilette (Séquence réflexive)"),
            date(2026, 3, 6),
        ),
        f"reflection-{pending.public_id}@{host}": (
            who("Séquence réflexive à faire (situation du 8 mars 2026)"),
            at(15),
        ),
        f"evaluation-{evaluation.public_id}@{host}": (
            who("Évaluation intermédiaire"),
            date(2026, 3, 9),
        ),
        f"final-{protocol.public_id}@{host}": (
            who("Évaluation finale prévue"),
            protocol.planned_end,
        ),
    }


def test_the_tutors_feed_holds_exactly_her_learners_dates(app, session, client, scene):
    protocol, people, pending, evaluation = scene
    response = read(client, secret_for(app, session, people["tutor"]))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.content_type == "text/calendar; charset=utf-8"
    name = people["learner"].full_name
    assert events(response) == expected(protocol, pending, evaluation, name)


def test_the_learners_feed_holds_her_own_dates_without_names(app, session, client, scene):
    protocol, people, pending, evaluation = scene
    response = read(client, secret_for(app, session, people["learner"]))
    assert events(response) == expected(protocol, pending, evaluation, None)
    assert people["tutor"].full_name.encode() not in response.data


def test_the_feed_is_a_calendar_an_app_subscribes_to(app, session, client, scene):
    _protocol, people, _pending, _evaluation = scene
    response = read(client, secret_for(app, session, people["tutor"]))
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == "afest : mon agenda"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.data
    assert str(calendar["X-PUBLISHED-TTL"].to_ical().decode()) == "PT1H"
    for item in calendar.walk("VEVENT"):
        assert item["DTSTAMP"].dt == NOW
        assert item["URL"].startswith("http://127.0.0.1:5000/protocoles/")
    whole_days = [e for e in calendar.walk("VEVENT") if not isinstance(e.start, datetime)]
    assert all(e.end == e.start + timedelta(days=1) for e in whole_days)
    assert response.headers["Cache-Control"] == "private, max-age=900"
    assert "Set-Cookie" not in response.headers


def test_uids_stay_the_same_from_one_reading_to_the_next(app, session, client, scene):
    _protocol, people, _pending, _evaluation = scene
    secret = secret_for(app, session, people["tutor"])
    first = read(client, secret)
    later = read(client, secret, NOW + timedelta(hours=3))
    assert set(events(first)) == set(events(later))
    assert first.data != later.data  # DTSTAMP moved


def test_the_feed_speaks_the_persons_language(app, session, client, scene):
    _protocol, people, _pending, _evaluation = scene
    people["tutor"].locale = "en"
    session.add(people["tutor"])
    session.commit()
    response = read(client, secret_for(app, session, people["tutor"]))
    summaries = {summary for summary, _start in events(response).values()}
    name = people["learner"].full_name
    assert f"{name} — Final evaluation planned" in summaries
    assert f"{name} — Interim assessment" in summaries
    assert str(Calendar.from_ical(response.data)["X-WR-CALNAME"]) == "afest: my calendar"


def test_a_paused_window_has_no_deadline_in_the_feed(app, session, client, scene):
    protocol, people, pending, _evaluation = scene
    session.add(
        ProtocolPause(
            protocol_id=protocol.id,
            paused_from=at(9),
            reason="Arrêt maladie",
            created_by_id=people["manager"].id,
        )
    )
    session.commit()
    uids = events(read(client, secret_for(app, session, people["tutor"])))
    assert not any(uid.startswith("reflection-") for uid in uids)
    assert any(uid.startswith("planned-") for uid in uids)


def test_a_final_evaluation_replaces_the_planned_one(app, session, client, scene):
    protocol, people, _pending, _evaluation = scene
    comps = [pc.competence_id for pc in targeted(session, protocol)]
    with time_machine.travel(NOW, tick=False), app.app_context():
        final = evaluations.create_evaluation(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            client_id="cal-final",
            kind=EvaluationKind.FINAL,
            evaluated_on=date(2026, 3, 10),
            summary="Bilan",
            levels={comps[0]: levels(session, protocol)[2].id},
        )
        session.commit()
    found = events(read(client, secret_for(app, session, people["learner"])))
    assert f"final-{protocol.public_id}@127.0.0.1" not in found
    assert found[f"evaluation-{final.public_id}@127.0.0.1"] == (
        "Évaluation finale",
        date(2026, 3, 10),
    )


def test_an_ended_protocol_and_a_former_tutor_leave_the_feed_empty(app, session, client, scene):
    protocol, people, _pending, _evaluation = scene
    learner_secret = secret_for(app, session, people["learner"])
    tutor_secret = secret_for(app, session, people["tutor"])
    session.exec(
        sa.update(ProtocolTutor)
        .where(ProtocolTutor.protocol_id == protocol.id)
        .values(ended_at=utcnow())
    )
    session.commit()
    assert events(read(client, tutor_secret)) == {}
    with time_machine.travel(NOW, tick=False), app.app_context():
        protocols.stop_protocol(
            session, actor_id=people["manager"].id, protocol=protocol, reason="Départ"
        )
        session.commit()
    assert events(read(client, learner_secret)) == {}


def test_the_queries_do_not_grow_with_the_protocols(app, session, client, make_protocol):
    """A tutor with one protocol, then with three: the same number of statements."""
    with time_machine.travel(NOW, tick=False), app.app_context():
        protocol, people = signed_protocol(session, make_protocol)
        with_history(session, protocol, people)
    secret = secret_for(app, session, people["tutor"])
    one = count_statements(app, lambda: read(client, secret))
    with time_machine.travel(NOW, tick=False), app.app_context():
        for _ in range(2):
            other, others = signed_protocol(session, make_protocol)
            session.add(
                ProtocolTutor(
                    protocol_id=other.id,
                    tutor_id=people["tutor"].id,
                    designated_at=utcnow(),
                    designated_by_id=others["manager"].id,
                )
            )
            session.commit()
            with_history(session, other, others)
    response = None

    def reading():
        nonlocal response
        response = read(client, secret)

    assert count_statements(app, reading) == one
    assert len(events(response)) == 15


def count_statements(app, action) -> int:
    engine = database(app).engine
    seen = []

    def before(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def test_unknown_revoked_and_malformed_secrets_get_the_same_404(app, session, client, scene):
    _protocol, people, _pending, _evaluation = scene
    secret = secret_for(app, session, people["tutor"])
    with app.app_context():
        feeds.revoke(session, actor_id=people["tutor"].id)
    session.commit()
    answers = [
        read(client, s) for s in (secret, "A" * 43, "pas un secret", "%00", "é" * 200, secret[:-1])
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({(a.data, tuple(sorted(a.headers.items()))) for a in answers}) == 1
    assert "Set-Cookie" not in answers[0].headers


def test_a_deactivated_account_has_no_feed(app, session, client, scene):
    _protocol, people, _pending, _evaluation = scene
    secret = secret_for(app, session, people["learner"])
    people["learner"].is_active = False
    session.add(people["learner"])
    session.commit()
    assert read(client, secret).status_code == 404
