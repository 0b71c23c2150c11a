""" "À faire" on the home page and the count by "Accueil": what waits, grouped by urgency said
in words, each line linking to the screen that resolves it, in the person's language; the
items are read once per request; every kind has a sentence and an address."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flask_babel import force_locale
from sqlalchemy import event

from afest.core.database import database
from afest.todo import labels
from afest.todo.items import Item, Kind, Urgency
from tests.conftest import login
from tests.todo.scene import at, logged_situation, made, travel

NOW = at(10, 11)


def _late_tutor(app, session, make_protocol):
    protocol, people = made(app, session, make_protocol)
    logged_situation(app, session, protocol, people)  # closed 9 March, 10:00
    return protocol, people


def _todo(html: str) -> str:
    return html[html.index('id="h-todo"') : html.index("</section>", html.index('id="h-todo"'))]


def test_the_tutors_home_lists_a_late_reflexive_sequence_first(app, session, make_protocol):
    protocol, people = _late_tutor(app, session, make_protocol)
    with travel(NOW):
        client = login(app.test_client(), people["tutor"].email)
        html = client.get("/").get_data(as_text=True)
        other_page = client.get("/tablette/").get_data(as_text=True)
    todo = _todo(html)
    assert todo.index("En retard") < todo.index("À venir")  # late first, in words
    reflexive = f'href="/tablette/protocoles/{protocol.public_id}/reflexion"'
    assert reflexive in todo
    assert "Séquence réflexive avec Apprenant Test sur la mise en situation du 2 mars 2026" in todo
    assert "En retard (délai : 9 mars 2026, 11:00)" in todo  # 10:00 UTC, in Paris time
    shown = todo.count('class="card todo-item')
    assert shown == 2  # the reflexive sequence, and signing the situation
    badge = re.compile(rf'Accueil <span class="count">{shown}<span class="visually-hidden">')
    assert badge.search(html) and badge.search(other_page)


def test_the_list_speaks_the_persons_language(app, session, make_protocol):
    _protocol, people = _late_tutor(app, session, make_protocol)
    people["tutor"].locale = "en"
    session.add(people["tutor"])
    session.commit()
    with travel(NOW):
        html = login(app.test_client(), people["tutor"].email).get("/").get_data(as_text=True)
    todo = _todo(html)
    assert "To do" in todo and "Late (deadline: March 9, 2026, 11:00)" in todo
    assert "Reflective sequence with Apprenant Test on the work situation of March 2, 2026" in todo


def test_nothing_waiting_says_so_and_shows_no_count(app, session, make_protocol):
    _protocol, people = made(app, session, make_protocol, stage="draft")
    with travel(NOW):
        html = login(app.test_client(), people["learner"].email).get("/").get_data(as_text=True)
    assert "Rien ne vous attend pour le moment." in _todo(html)
    assert 'class="count"' not in html


def test_the_items_are_read_once_per_request(app, session, make_protocol):
    _protocol, people = _late_tutor(app, session, make_protocol)
    seen = []

    def before(conn, cursor, statement, *args):
        if "AS person_id" in statement:  # the first statement of waiting()
            seen.append(statement)

    with travel(NOW):
        client = login(app.test_client(), people["tutor"].email)
        event.listen(database(app).engine, "before_cursor_execute", before)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(database(app).engine, "before_cursor_execute", before)
    assert len(seen) == 1  # the home's list and the navigation's count share it


FACTS = {
    "title": "AFEST aide à domicile",
    "learner": "Lina Martin",
    "name": "Paul Durand",
    "role": "learner",
    "sequence_kind": "situation",
    "occurred_at": datetime(2026, 3, 2, 10, tzinfo=UTC),
    "evaluation_kind": "final",
    "evaluated_on": date(2026, 3, 5),
    "planned": "Toilette au lit",
    "planned_on": date(2026, 3, 10),
    "ends": date(2026, 3, 20),
    "missing": ["tutor", "structure"],
    "failed": [3],
    "late": [4],
    "soon": [1],
    "expired": True,
    "state": "projet",
    "since": date(2026, 1, 5),
    "days": 30,
    "structure": "EHPAD Les Tilleuls",
    "failing": 2,
    "near": 1,
}
VALUES = {
    "people.person": {"structure_id": "S", "public_id": "P"},
}


def test_every_kind_has_a_sentence_and_a_screen_in_both_languages(app):
    endpoints = {
        Kind.SIGN_PROTOCOL: "protocols.show",
        Kind.COUNTERSIGN_SEQUENCE: "sequences.countersign",
        Kind.COUNTERSIGN_EVALUATION: "evaluations.show",
        Kind.REFLECTION_DUE: "tablet.reflection",
        Kind.SIGN_SEQUENCE: "sequences.show",
        Kind.PLANNED_SEQUENCE: "tablet.situation",
        Kind.FINAL_EVALUATION: "evaluations.new",
        Kind.PROTOCOL_SIGNATURES: "protocols.show",
        Kind.PROTOCOL_AT_RISK: "protocols.show",
        Kind.TUTOR_WITHOUT_PIN: "people.person",
        Kind.INVITATION_PENDING: "people.person",
        Kind.VAE_STUCK: "vae.show",
        Kind.STRUCTURE_AT_RISK: "dashboards.structure",
    }
    assert set(endpoints) == set(Kind)
    sentences = {}
    with app.test_request_context():
        for kind, endpoint in endpoints.items():
            item = Item(
                f"{kind}:X",
                kind,
                1,
                endpoint,
                VALUES.get(endpoint, {"public_id": "X"}),
                datetime(2026, 3, 9, 10, tzinfo=UTC),
                Urgency.LATE,
                FACTS,
            )
            assert labels.url(item).startswith("/")
            for locale in ("fr", "en"):
                with force_locale(locale):
                    sentence = labels.describe(item)
                    assert sentence and str(kind) not in sentence
                    assert labels.when(item)
                    sentences[kind, locale] = sentence
    assert all(sentences[k, "fr"] != sentences[k, "en"] for k in Kind)
