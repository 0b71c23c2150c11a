"""What waits for a learner and a tutor, on a clock the test moves: each item appears for
the right person and no one else (another structure's people, another tutor), goes when it
is resolved, and a pause freezes or moves it."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from afest.assessments import evaluations
from afest.models import EvaluationKind, ProtocolTutor, SequenceKind, SignerRole, utcnow
from afest.protocols import operations as protocols
from tests.learner_factories import reflection, sign
from tests.todo.scene import (
    at,
    first_competence_and_level,
    items_at,
    kinds_at,
    logged_situation,
    made,
    nothing_for,
    pause,
    travel,
)


def test_a_protocol_to_sign_waits_for_each_party_until_she_signed(app, session, make_protocol):
    protocol, people = made(app, session, make_protocol, stage="awaiting")
    _other, strangers = made(app, session, make_protocol, stage="draft")
    now = at(3)
    assert kinds_at(app, session, now, people["learner"]) == [("sign_protocol", "late")]
    assert kinds_at(app, session, now, people["tutor"]) == [("sign_protocol", "late")]
    assert kinds_at(app, session, now, people["manager"]) == [("protocol_signatures", "late")]
    assert nothing_for(app, session, now, *strangers.values())
    with travel(now), app.app_context():
        protocols.sign_protocol(
            session,
            actor_id=people["learner"].id,
            protocol=protocol,
            role=SignerRole.LEARNER,
            method="password",
        )
        session.commit()
    assert kinds_at(app, session, now, people["learner"]) == []
    assert kinds_at(app, session, now, people["tutor"]) == [("sign_protocol", "late")]
    item = items_at(app, session, now, [people["manager"].id])[people["manager"].id][0]
    assert item.facts["missing"] == ["tutor", "structure"]


def test_a_protocol_put_up_before_its_start_is_not_late(app, session, make_protocol):
    _protocol, people = made(app, session, make_protocol, stage="awaiting")
    assert kinds_at(app, session, at(1, 9), people["learner"]) == [("sign_protocol", "soon")]
    assert kinds_at(app, session, at(2, 9), people["learner"]) == [("sign_protocol", "today")]


def test_a_sequence_waits_for_the_tutors_signature_then_the_learners(app, session, make_protocol):
    protocol, people = made(app, session, make_protocol)
    _other, strangers = made(app, session, make_protocol)
    seq = logged_situation(app, session, protocol, people)
    now = at(3)
    tutor, learner = people["tutor"], people["learner"]
    assert ("sign_sequence", "later") in kinds_at(app, session, now, tutor)
    assert kinds_at(app, session, now, learner) == []
    with travel(now), app.app_context():
        sign(session, protocol, people, seq, learner=False)
        session.commit()
    assert "sign_sequence" not in dict(kinds_at(app, session, now, tutor))
    assert kinds_at(app, session, now, learner) == [("countersign_sequence", "later")]
    assert nothing_for(app, session, now, *strangers.values())
    with travel(now), app.app_context():
        sign(session, protocol, people, seq, tutor=False)
        session.commit()
    assert kinds_at(app, session, now, learner) == []


def test_an_evaluation_waits_for_the_learners_countersignature(app, session, make_protocol):
    protocol, people = made(app, session, make_protocol)
    comp, level = first_competence_and_level(session, protocol)
    now = at(5)
    with travel(now), app.app_context():
        evaluation = evaluations.create_evaluation(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            client_id=f"todo-eval-{protocol.id}",
            kind=EvaluationKind.INTERMEDIATE,
            evaluated_on=date(2026, 3, 5),
            summary="Point d'étape",
            levels={comp: level},
        )
        assert kinds_at(app, session, now, people["learner"]) == []
        for role, who in ((SignerRole.TUTOR, "tutor"), (SignerRole.LEARNER, "learner")):
            evaluations.sign_evaluation(
                session,
                actor_id=people[who].id,
                protocol=protocol,
                evaluation=evaluation,
                role=role,
                method="password",
            )
            session.commit()
            if who == "tutor":
                assert kinds_at(app, session, now, people["learner"]) == [
                    ("countersign_evaluation", "later")
                ]
    assert kinds_at(app, session, now, people["learner"]) == []


def _reflection_urgency(app, session, when, tutor) -> str | None:
    found = dict(kinds_at(app, session, when, tutor))
    return found.get("reflection_due")


def test_a_reflexive_window_comes_closer_then_late_then_goes_once_logged(
    app, session, make_protocol
):
    protocol, people = made(app, session, make_protocol)
    _other, strangers = made(app, session, make_protocol)
    co_tutor_protocol, co_people = made(app, session, make_protocol)
    situation = logged_situation(app, session, protocol, people)  # window closes 9 March 10:00
    tutor = people["tutor"]
    assert _reflection_urgency(app, session, at(6, 9), tutor) == "later"
    assert _reflection_urgency(app, session, at(7, 11), tutor) == "soon"
    assert _reflection_urgency(app, session, at(9, 8), tutor) == "today"
    assert _reflection_urgency(app, session, at(9, 11), tutor) == "late"
    item = next(
        i
        for i in items_at(app, session, at(9, 11), [tutor.id])[tutor.id]
        if i.kind == "reflection_due"
    )
    assert item.due == at(9, 10)
    assert (item.endpoint, item.values) == ("tablet.reflection", {"public_id": protocol.public_id})
    assert item.key == f"reflection_due:{situation.public_id}"
    assert nothing_for(app, session, at(9, 11), people["learner"], *strangers.values())
    assert _reflection_urgency(app, session, at(9, 11), co_people["tutor"]) is None
    comp, level = first_competence_and_level(session, protocol)
    with travel(at(9, 12)), app.app_context():
        reflection(
            session,
            protocol,
            people,
            at=at(9, 12),
            situation_ids=[situation.id],
            levels_by_comp={comp: level},
        )
        session.commit()
    assert _reflection_urgency(app, session, at(9, 13), tutor) is None


def test_a_tutor_no_longer_designated_has_nothing_left_to_do(app, session, make_protocol):
    protocol, people = made(app, session, make_protocol)
    logged_situation(app, session, protocol, people)
    assert _reflection_urgency(app, session, at(9, 11), people["tutor"]) == "late"
    row = session.exec(select(ProtocolTutor).where(ProtocolTutor.protocol_id == protocol.id)).one()
    row.ended_at = utcnow()
    session.add(row)
    session.commit()
    assert kinds_at(app, session, at(9, 11), people["tutor"]) == []


def test_an_open_pause_makes_nobody_wait(app, session, make_protocol):
    protocol, people = made(app, session, make_protocol, stage="in_progress")
    seq = logged_situation(app, session, protocol, people)
    with travel(at(3)), app.app_context():
        sign(session, protocol, people, seq, learner=False)
        session.commit()
    before = items_at(app, session, at(9, 11), [p.id for p in people.values()])
    assert set(before) == {p.id for p in people.values()}  # each of them has something
    pause(session, protocol, people, at(4, 0), None)
    assert nothing_for(app, session, at(9, 11), *people.values())
    assert nothing_for(app, session, at(20, 11), *people.values())
    # a pause not begun yet at the moment asked holds nothing back
    assert _reflection_urgency(app, session, at(3, 9), people["tutor"]) == "later"


def test_a_resumed_pause_moves_the_window_by_its_length(app, session, make_protocol):
    protocol, people = made(app, session, make_protocol)
    logged_situation(app, session, protocol, people)  # 2 March 10:00, closes 9 March 10:00
    pause(session, protocol, people, at(4, 0), at(7, 0))  # three days
    tutor = people["tutor"]
    assert _reflection_urgency(app, session, at(9, 11), tutor) == "later"
    assert _reflection_urgency(app, session, at(10, 11), tutor) == "soon"
    assert _reflection_urgency(app, session, at(12, 9), tutor) == "today"
    assert _reflection_urgency(app, session, at(12, 11), tutor) == "late"
    item = next(i for i in items_at(app, session, at(12, 11), [tutor.id])[tutor.id])
    assert item.due == at(12, 10)


def test_planned_sequences_of_today_and_tomorrow(app, session, make_protocol):
    plan = [
        (SequenceKind.SITUATION, date(2026, 3, 10), "Toilette au lit", 90),
        (SequenceKind.REFLECTION, date(2026, 3, 11), "Retour sur la toilette", 45),
        (SequenceKind.SITUATION, date(2026, 3, 12), "Aide au repas", 60),
    ]
    protocol, people = made(app, session, make_protocol, plan=plan)
    _other, strangers = made(app, session, make_protocol, plan=plan)
    found = items_at(app, session, at(10, 8), [people["tutor"].id])[people["tutor"].id]
    planned = [(i.facts["planned"], str(i.urgency), i.endpoint) for i in found]
    assert planned == [
        ("Toilette au lit", "today", "tablet.situation"),
        ("Retour sur la toilette", "soon", "tablet.reflection"),
    ]
    assert nothing_for(app, session, at(10, 8), people["learner"], people["manager"])
    assert dict(kinds_at(app, session, at(12, 8), people["tutor"])) == {"planned_sequence": "today"}


def test_a_protocol_ending_within_a_week_wants_its_final_evaluation(app, session, make_protocol):
    protocol, people = made(app, session, make_protocol)
    protocol.planned_end = date(2026, 3, 20)
    session.add(protocol)
    session.commit()
    tutor = people["tutor"]
    assert "final_evaluation" not in dict(kinds_at(app, session, at(12), tutor))
    assert dict(kinds_at(app, session, at(13), tutor))["final_evaluation"] == "later"
    assert dict(kinds_at(app, session, at(19), tutor))["final_evaluation"] == "soon"
    assert dict(kinds_at(app, session, at(20), tutor))["final_evaluation"] == "today"
    assert dict(kinds_at(app, session, at(21), tutor))["final_evaluation"] == "late"
    comp, level = first_competence_and_level(session, protocol)
    with travel(at(21)), app.app_context():
        final = evaluations.create_evaluation(
            session,
            actor_id=tutor.id,
            protocol=protocol,
            client_id=f"todo-final-{protocol.id}",
            kind=EvaluationKind.FINAL,
            evaluated_on=date(2026, 3, 21),
            summary="Bilan",
            levels={comp: level},
        )
        session.commit()
    # written but not signed: condition 4 is not met yet (afest.protocols.compliance)
    assert "final_evaluation" in dict(kinds_at(app, session, at(21), tutor))
    with travel(at(21)), app.app_context():
        evaluations.sign_evaluation(
            session,
            actor_id=tutor.id,
            protocol=protocol,
            evaluation=final,
            role=SignerRole.TUTOR,
            method="pin",
        )
        session.commit()
    assert "final_evaluation" not in dict(kinds_at(app, session, at(21), tutor))
