"""What waits is computed for many people at once: the number of statements does not grow
with the number of people or protocols, and everyone's items are each person's own."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from afest.accounts import links
from afest.core.database import database
from afest.models import Role, SequenceKind, utcnow
from afest.todo.items import Kind, waiting
from afest.vae import operations as vae
from tests.learner_factories import sign
from tests.todo.scene import at, items_at, logged_situation, made, travel

NOW = at(12, 11)
PLAN = [(SequenceKind.SITUATION, date(2026, 3, 12), "Toilette au lit", 90)]


def busy(app, session, make_protocol, make_user) -> list[int]:
    """A structure where every kind of item waits for someone; the people's ids."""
    protocol, people = made(app, session, make_protocol, plan=PLAN)
    seq = logged_situation(app, session, protocol, people)
    with travel(at(3)), app.app_context():
        sign(session, protocol, people, seq, learner=False)
        session.commit()
    logged_situation(app, session, protocol, people, at(4))  # not signed by the tutor
    awaiting, more = made(app, session, make_protocol, stage="awaiting")
    newcomer = make_user([(Role.TUTOR, protocol.structure_id)])
    invited = make_user([(Role.LEARNER, protocol.structure_id)])
    consultant = make_user([(Role.CONSULTANT, None)])
    with travel(at(2)), app.app_context():
        links.issue(session, user=invited, purpose=links.INVITATION, actor_id=people["manager"].id)
        vae.start_pathway(
            session,
            actor_id=people["manager"].id,
            learner_id=people["learner"].id,
            structure_id=protocol.structure_id,
            referential_id=protocol.referential_id,
            cohort_id=None,
            consultant_id=consultant.id,
            started_on=date(2026, 1, 5),
        )
        session.commit()
    everyone = [*people.values(), *more.values(), newcomer, invited, consultant]
    return [p.id for p in everyone]


def count_statements(app, action) -> int:
    """The SELECTs `action` runs (the test's savepoints are not the code's)."""
    engine = database(app).engine
    seen = []

    def before(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def _waiting(app, session, people):
    def run():
        with travel(NOW), app.app_context():
            run.found = waiting(session, people=people, now=utcnow())

    return run


def test_every_kind_waits_in_the_busy_structure(app, session, make_protocol, make_user):
    ids = busy(app, session, make_protocol, make_user)
    found = items_at(app, session, NOW, ids)
    kinds = {i.kind for items in found.values() for i in items}
    # no OPCO adviser of this structure asked for her summary (tests/todo/test_opco_summary.py)
    assert kinds == set(Kind) - {
        Kind.COUNTERSIGN_EVALUATION,
        Kind.FINAL_EVALUATION,
        Kind.STRUCTURE_AT_RISK,
    }
    assert all(i.person_id == person for person, items in found.items() for i in items)


def test_the_number_of_statements_does_not_grow_with_people(app, session, make_protocol, make_user):
    one = busy(app, session, make_protocol, make_user)
    run = _waiting(app, session, one)
    statements_for_one = count_statements(app, run)
    items_for_one = sum(len(v) for v in run.found.values())
    many = list(one)
    for _ in range(9):
        many += busy(app, session, make_protocol, make_user)
    run = _waiting(app, session, many)
    assert count_statements(app, run) == statements_for_one
    assert sum(len(v) for v in run.found.values()) == 10 * items_for_one
    everyone = _waiting(app, session, None)
    assert count_statements(app, everyone) == statements_for_one
    assert {p: everyone.found[p] for p in many if p in everyone.found} == run.found
    assert statements_for_one == 12  # one per kind, and the reflexive windows


def test_a_persons_roles_limit_the_work(app, session, make_protocol, make_user):
    ids = busy(app, session, make_protocol, make_user)
    learner = ids[2]

    def run():
        with travel(NOW), app.app_context():
            run.found = waiting(session, people=[learner], now=utcnow(), roles=[Role.LEARNER])

    assert count_statements(app, run) == 3
    assert [i.kind for i in run.found[learner]] == [Kind.COUNTERSIGN_SEQUENCE]
