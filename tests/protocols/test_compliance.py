"""The four legal conditions, on the demo protocols and on protocols built for each case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from afest.models import (
    Autonomy,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    SequenceKind,
    User,
    utcnow,
)
from afest.protocols import compliance
from afest.protocols.compliance import State
from afest.sequences import operations as sequences

TZ = ZoneInfo("Europe/Paris")


def _protocol_of(session, email: str) -> Protocol:
    learner = session.exec(select(User).where(User.email == email)).one()
    return session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()


def _designate_early(session, protocol) -> None:
    """make_protocol designates its tutor now; these cases need a designation before."""
    for link in session.exec(select(ProtocolTutor).where(ProtocolTutor.protocol_id == protocol.id)):
        link.designated_at = utcnow() - timedelta(days=40)
        session.add(link)
    session.flush()


def _situation(session, protocol, tutor, when: datetime, minutes: int = 180):
    competence_id = protocol.competences[0].competence_id
    seq, _ = sequences.log_sequence(
        session,
        actor_id=tutor.id,
        protocol=protocol,
        kind=SequenceKind.SITUATION,
        tz=TZ,
        data=sequences.SequenceData(
            client_id=f"s-{when.isoformat()}-{protocol.id}",
            occurred_at=when,
            duration_minutes=minutes,
            autonomy=Autonomy.ACCOMPANIED,
            competence_ids=[competence_id],
        ),
    )
    return seq


def _reflection(session, protocol, tutor, when: datetime, situation, minutes: int = 60):
    seq, _ = sequences.log_sequence(
        session,
        actor_id=tutor.id,
        protocol=protocol,
        kind=SequenceKind.REFLECTION,
        tz=TZ,
        data=sequences.SequenceData(
            client_id=f"r-{when.isoformat()}-{protocol.id}",
            occurred_at=when,
            duration_minutes=minutes,
            expected="a",
            achieved="b",
            learnt="c",
            situation_ids=[situation.id],
        ),
    )
    return seq


def test_incomplete_demo_protocol_names_exactly_the_missing_items(session):
    protocol = _protocol_of(session, "apprenant-incomplet@azur-aide.demo")
    checklist = compliance.check(session, protocol)
    states = [c.state for c in checklist.conditions]
    assert states == [State.FAILED, State.MET, State.FAILED, State.NOT_YET]
    assert checklist.at_risk and not checklist.all_met
    assert "analyse de l'activité" in str(checklist.condition(1).problems[0])
    assert len(checklist.condition(3).problems) == 1  # the one situation never analysed
    assert "aucune séquence réflexive" in str(checklist.condition(3).problems[0])
    assert "Aucune évaluation" in str(checklist.condition(4).problems[0])
    assert checklist.condition(4).fix.endpoint == "evaluations.new"


def test_completed_demo_protocols_are_green(session):
    completed = session.exec(
        select(Protocol).where(Protocol.status == ProtocolStatus.COMPLETED)
    ).all()
    assert completed
    results = compliance.check_many(session, completed)
    for protocol in completed:
        checklist = results[protocol.id]
        assert checklist.all_met, (protocol.title, [c.problems for c in checklist.conditions])


def test_check_many_uses_a_fixed_number_of_queries(session, connection):
    protocols = session.exec(select(Protocol)).all()
    counted = []

    from sqlalchemy import event

    def count(*_args, **_kw):
        counted.append(1)

    event.listen(connection, "before_cursor_execute", count)
    try:
        compliance.check_many(session, protocols)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert (
        len(counted) <= 6
    )  # designations, evaluations, sequences, reflections, signatures, pauses


def test_a_sequence_dated_before_the_tutor_designation_is_flagged(session, make_protocol):
    protocol, people = make_protocol()
    _designate_early(session, protocol)
    when = utcnow() - timedelta(days=3)
    situation = _situation(session, protocol, people["tutor"], when)
    _reflection(session, protocol, people["tutor"], when + timedelta(hours=4), situation)
    for link in session.exec(select(ProtocolTutor).where(ProtocolTutor.protocol_id == protocol.id)):
        link.designated_at = when + timedelta(days=1)  # designated after the situation
        session.add(link)
    session.flush()
    checklist = compliance.check(session, protocol)
    item = checklist.condition(2)
    assert item.state == State.FAILED
    assert situation.id in checklist.flagged_sequences
    assert len(item.problems) == 2  # the situation and its reflection both came before
    assert item.fix.endpoint == "sequences.show"
    assert item.fix.values == {"public_id": situation.public_id}


def test_no_tutor_at_all_fails_condition_2(session, make_protocol):
    protocol, _ = make_protocol(stage="draft")
    for link in session.exec(select(ProtocolTutor).where(ProtocolTutor.protocol_id == protocol.id)):
        session.delete(link)
    session.flush()
    assert compliance.check(session, protocol).condition(2).state == State.FAILED


def test_a_situation_without_reflection_after_n_days_is_flagged(session, make_protocol):
    protocol, people = make_protocol()
    _designate_early(session, protocol)
    when = utcnow() - timedelta(days=10)
    situation = _situation(session, protocol, people["tutor"], when)
    settings = compliance.Settings(reflection_max_days=7, cycle_min_minutes=210)

    checklist = compliance.check(session, protocol, settings=settings)
    assert checklist.condition(3).state == State.FAILED
    assert situation.id in checklist.flagged_sequences
    assert checklist.condition(3).fix.endpoint == "tablet.learner"

    # Still within the window: pending, not failed.
    early = compliance.check(session, protocol, settings=settings, now=when + timedelta(days=2))
    assert early.condition(3).state == State.PENDING
    assert not early.at_risk

    # A wider window configured: pending too.
    wide = compliance.Settings(reflection_max_days=30, cycle_min_minutes=210)
    assert compliance.check(session, protocol, settings=wide).condition(3).state == State.PENDING


def test_a_late_reflection_meets_the_condition_but_is_flagged(session, make_protocol):
    protocol, people = make_protocol()
    _designate_early(session, protocol)
    when = datetime.now(UTC) - timedelta(days=15)
    situation = _situation(session, protocol, people["tutor"], when)
    _reflection(session, protocol, people["tutor"], when + timedelta(days=9), situation)
    checklist = compliance.check(session, protocol)
    assert checklist.condition(3).state == State.MET
    assert situation.id in checklist.flagged_sequences
    assert any(w.key == "late_reflection" for w in checklist.warnings)


def test_practice_warnings_short_cycle_and_unsigned(session, make_protocol):
    protocol, people = make_protocol()
    _designate_early(session, protocol)
    when = utcnow() - timedelta(days=2)
    situation = _situation(session, protocol, people["tutor"], when, minutes=60)
    _reflection(session, protocol, people["tutor"], when + timedelta(hours=3), situation, 30)
    checklist = compliance.check(session, protocol)
    keys = {w.key for w in checklist.warnings}
    assert {"short_cycle", "unsigned"} <= keys
    assert checklist.condition(3).state == State.MET
    assert checklist.condition(4).state == State.NOT_YET
    assert not checklist.at_risk


def test_stopped_protocol_without_evaluation_fails_condition_4(session, make_protocol):
    from afest.protocols import operations as protocols

    protocol, people = make_protocol()
    protocols.stop_protocol(
        session, actor_id=people["manager"].id, protocol=protocol, reason="Départ"
    )
    assert compliance.check(session, protocol).condition(4).state == State.FAILED


def _evaluation(session, protocol, tutor, client_id: str = "eval-1"):
    from datetime import date

    from afest.assessments import evaluations
    from afest.models import EvaluationKind, Level

    level = session.exec(
        select(Level).where(Level.referential_id == protocol.referential_id).order_by(Level.rank)
    ).first()
    return evaluations.create_evaluation(
        session,
        actor_id=tutor.id,
        protocol=protocol,
        client_id=f"{client_id}-{protocol.id}",
        kind=EvaluationKind.INTERMEDIATE,
        evaluated_on=date.today(),
        summary="Point d'étape",
        levels={protocol.competences[0].competence_id: level.id},
    )


def _sign_evaluation(session, protocol, evaluation, who, role):
    from afest.assessments import evaluations

    evaluations.sign_evaluation(
        session,
        actor_id=who.id,
        protocol=protocol,
        evaluation=evaluation,
        role=role,
        method="password",
    )


def test_an_evaluation_meets_condition_4_only_once_the_tutor_signed_it(session, make_protocol):
    from afest.models import SignerRole

    protocol, people = make_protocol()
    evaluation = _evaluation(session, protocol, people["tutor"])
    item = compliance.check(session, protocol).condition(4)
    assert item.state == State.NOT_YET
    assert "signée" in str(item.problems[0])
    assert item.fix.endpoint == "evaluations.show"
    assert item.fix.values == {"public_id": evaluation.public_id}

    # The learner's countersignature alone is not the tutor's evaluation.
    _sign_evaluation(session, protocol, evaluation, people["learner"], SignerRole.LEARNER)
    assert compliance.check(session, protocol).condition(4).state == State.NOT_YET

    _sign_evaluation(session, protocol, evaluation, people["tutor"], SignerRole.TUTOR)
    assert compliance.check(session, protocol).condition(4).state == State.MET


def test_a_stopped_protocol_with_an_unsigned_evaluation_fails_condition_4(session, make_protocol):
    from afest.protocols import operations as protocols

    protocol, people = make_protocol()
    _evaluation(session, protocol, people["tutor"])
    protocols.stop_protocol(
        session, actor_id=people["manager"].id, protocol=protocol, reason="Départ"
    )
    assert compliance.check(session, protocol).condition(4).state == State.FAILED


def test_no_situation_at_all_does_not_meet_condition_3(session, make_protocol):
    from afest.protocols import operations as protocols

    protocol, people = make_protocol()
    item = compliance.check(session, protocol).condition(3)
    assert item.state == State.NOT_YET
    assert "Aucune mise en situation" in str(item.problems[0])

    protocols.stop_protocol(
        session, actor_id=people["manager"].id, protocol=protocol, reason="Départ"
    )
    assert compliance.check(session, protocol).condition(3).state == State.FAILED


def _signed_situation(session, protocol, people, when, minutes):
    from afest.models import SignerRole
    from afest.sequences import signing

    seq = _situation(session, protocol, people["tutor"], when, minutes)
    for role in ("tutor", "learner"):
        signing.sign_sequence(
            session,
            actor_id=people[role].id,
            protocol=protocol,
            sequence=seq,
            role=SignerRole(role),
            method="password",
        )
    return seq


def _hours(checklist):
    return [w for w in checklist.warnings if w.key == "hours"]


def test_hours_done_far_above_the_plan_are_flagged(session, make_protocol):
    protocol, people = make_protocol()
    _designate_early(session, protocol)
    protocol.planned_minutes = 7 * 60
    session.add(protocol)
    when = utcnow() - timedelta(days=5)
    _signed_situation(session, protocol, people, when, 6 * 60)
    _signed_situation(session, protocol, people, when + timedelta(days=1), 6 * 60 + 15)
    (item,) = _hours(compliance.check(session, protocol))
    text = str(item.problems[0])
    assert "12 h 15" in text and "7 h" in text and "25 %" in text
    assert item.fix.anchor == "heures"


def test_hours_within_the_margin_are_not_flagged(session, make_protocol):
    protocol, people = make_protocol()
    _designate_early(session, protocol)
    protocol.planned_minutes = 7 * 60
    session.add(protocol)
    _signed_situation(session, protocol, people, utcnow() - timedelta(days=5), 8 * 60)
    assert not _hours(compliance.check(session, protocol))  # 8 h for 7 h: 14 % over
    narrow = compliance.Settings(hours_margin_percent=10)
    assert _hours(compliance.check(session, protocol, settings=narrow))


def test_unsigned_hours_do_not_count_as_done(session, make_protocol):
    protocol, people = make_protocol()
    _designate_early(session, protocol)
    protocol.planned_minutes = 7 * 60
    session.add(protocol)
    when = utcnow() - timedelta(days=5)
    _situation(session, protocol, people["tutor"], when, 6 * 60)
    _situation(session, protocol, people["tutor"], when + timedelta(days=1), 6 * 60 + 15)
    assert not _hours(compliance.check(session, protocol))


def test_hours_far_below_the_plan_are_flagged_once_the_protocol_ended(session, make_protocol):
    from afest.protocols import operations as protocols

    protocol, people = make_protocol()
    _designate_early(session, protocol)
    protocol.planned_minutes = 7 * 60
    session.add(protocol)
    _signed_situation(session, protocol, people, utcnow() - timedelta(days=5), 3 * 60)
    assert not _hours(compliance.check(session, protocol))  # still in progress: on its way
    _signed_situation(session, protocol, people, utcnow() - timedelta(days=4), 2 * 60 + 30)
    protocols.stop_protocol(
        session, actor_id=people["manager"].id, protocol=protocol, reason="Départ"
    )
    assert not _hours(compliance.check(session, protocol))  # 5 h 30 for 7 h: within 25 %
    protocol.planned_minutes = 8 * 60
    session.add(protocol)
    (item,) = _hours(compliance.check(session, protocol))  # 5 h 30 for 8 h: 31 % under
    assert "5 h 30" in str(item.problems[0]) and "8 h" in str(item.problems[0])


def test_the_hours_warning_is_on_the_protocol_page_with_the_configured_margin(
    session, make_protocol, login_as, app
):
    from flask import url_for

    protocol, people = make_protocol()
    _designate_early(session, protocol)
    protocol.planned_minutes = 7 * 60
    session.add(protocol)
    when = utcnow() - timedelta(days=5)
    _signed_situation(session, protocol, people, when, 6 * 60)
    _signed_situation(session, protocol, people, when + timedelta(days=1), 6 * 60 + 15)
    session.commit()
    with app.test_request_context():
        url = url_for("protocols.show", public_id=protocol.public_id)
    client = login_as(people["manager"].email)
    page = client.get(url).get_data(as_text=True)
    assert "Heures réalisées / prévues" in page and "12 h 15" in page
    app.config["HOURS_MARGIN_PERCENT"] = 80  # 12 h 15 for 7 h is 75 % over
    try:
        page = client.get(url).get_data(as_text=True)
    finally:
        app.config["HOURS_MARGIN_PERCENT"] = 25
    assert "Heures réalisées / prévues" not in page
