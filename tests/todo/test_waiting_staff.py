"""What waits for a structure's manager and a VAE consultant, on a clock the test moves: each
item for the right person only (not another structure's manager, not another consultant),
gone once resolved; the protocols at risk agree with the compliance checks."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from afest.accounts import links
from afest.assessments import evaluations
from afest.models import EvaluationKind, Organisation, ProtocolTutor, Role, VaeState
from afest.protocols import compliance
from afest.todo.items import Kind
from afest.vae import operations as vae
from tests.conftest import PASSWORD
from tests.learner_factories import reflection
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


def _keys(app, session, when, person, kind: Kind) -> set[str]:
    found = items_at(app, session, when, [person.id]).get(person.id, [])
    return {i.key.split(":", 1)[1] for i in found if i.kind == kind}


def test_a_tutor_without_a_pin_waits_for_her_managers_until_she_chose_one(
    app, session, make_protocol, make_user
):
    protocol, people = made(app, session, make_protocol, stage="draft")
    _other, strangers = made(app, session, make_protocol, stage="draft")
    structure = session.get(Organisation, protocol.structure_id)
    newcomer = make_user([(Role.TUTOR, structure.id)], name="Nouvelle Tutrice")
    session.commit()
    manager = people["manager"]
    assert _keys(app, session, at(3), manager, Kind.TUTOR_WITHOUT_PIN) == {newcomer.public_id}
    item = items_at(app, session, at(3), [manager.id])[manager.id][0]
    assert (item.endpoint, item.values) == (
        "people.person",
        {"structure_id": structure.public_id, "public_id": newcomer.public_id},
    )
    assert nothing_for(app, session, at(3), strangers["manager"], newcomer, people["tutor"])
    with travel(at(3)), app.app_context():
        links.change_pin(session, actor_id=newcomer.id, password=PASSWORD, pin="4826")
        session.commit()
    assert kinds_at(app, session, at(3), manager) == []


def test_an_invitation_waits_until_accepted_and_is_late_once_expired(
    app, session, make_protocol, make_user
):
    protocol, people = made(app, session, make_protocol, stage="draft")
    _other, strangers = made(app, session, make_protocol, stage="draft")
    invited = make_user([(Role.TUTOR, protocol.structure_id)], name="Invitée Test")
    with travel(at(3)), app.app_context():
        _token, value = links.issue(
            session, user=invited, purpose=links.INVITATION, actor_id=people["manager"].id
        )
        session.commit()
    manager = people["manager"]
    # invited, she is counted once, as an invitation (her PIN comes with it)
    assert kinds_at(app, session, at(4), manager) == [("invitation_pending", "later")]
    assert kinds_at(app, session, at(11), manager) == [("invitation_pending", "late")]
    assert nothing_for(app, session, at(4), strangers["manager"], people["tutor"])
    with travel(at(5)), app.test_request_context():
        links.use(
            session,
            value=value,
            purpose=links.INVITATION,
            password="Un mot de passe solide 2026",
            pin="4826",
        )
        session.commit()
    assert kinds_at(app, session, at(5), manager) == []


def test_a_stuck_vae_pathway_waits_for_its_consultant_until_the_next_milestone(
    app, session, make_protocol, make_user
):
    protocol, people = made(app, session, make_protocol, stage="draft")
    consultant = make_user([(Role.CONSULTANT, None)], name="Consultante Test")
    other = make_user([(Role.CONSULTANT, None)], name="Autre Consultante")
    with travel(at(2)), app.app_context():
        pathway = vae.start_pathway(
            session,
            actor_id=people["manager"].id,
            learner_id=people["learner"].id,
            structure_id=protocol.structure_id,
            referential_id=protocol.referential_id,
            cohort_id=None,
            consultant_id=consultant.id,
            started_on=date(2026, 3, 2),
        )
        session.commit()
    assert kinds_at(app, session, at(1, month=4), consultant) == []  # 30 days: not yet
    assert kinds_at(app, session, at(2, month=4), consultant) == [("vae_stuck", "late")]
    assert nothing_for(app, session, at(2, month=4), other, people["manager"], people["learner"])
    with travel(at(2, month=4)), app.app_context():
        vae.record_milestone(
            session,
            actor_id=consultant.id,
            pathway=pathway,
            state=VaeState.VALIDATION,
            occurred_on=date(2026, 4, 2),
        )
        session.commit()
    assert kinds_at(app, session, at(2, month=4), consultant) == []
    assert kinds_at(app, session, at(3, month=5), consultant) == [("vae_stuck", "late")]
    with travel(at(3, month=5)), app.app_context():
        vae.record_milestone(
            session,
            actor_id=consultant.id,
            pathway=pathway,
            state=VaeState.ABANDON,
            occurred_on=date(2026, 5, 3),
            reason="Déménagement",
        )
        session.commit()
    assert kinds_at(app, session, at(3, month=8), consultant) == []  # ended: nothing waits


def _risky_protocols(app, session, make_protocol):
    """In-progress protocols of one structure, each with a different trouble."""
    fine, people = made(app, session, make_protocol)
    structure = session.get(Organisation, fine.structure_id)
    analysed = logged_situation(app, session, fine, people, at(3, 10))
    comp, level = first_competence_and_level(session, fine)
    with travel(at(4, 10)), app.app_context():
        reflection(
            session,
            fine,
            people,
            at=at(4, 10),
            situation_ids=[analysed.id],
            levels_by_comp={comp: level},
        )
        evaluations.create_evaluation(
            session,
            actor_id=people["tutor"].id,
            protocol=fine,
            client_id=f"risk-eval-{fine.id}",
            kind=EvaluationKind.INTERMEDIATE,
            evaluated_on=date(2026, 3, 4),
            summary="",
            levels={comp: level},
        )
        session.commit()
    blank, p2 = made(app, session, make_protocol, structure=structure)
    blank.activity_analysis = " \n\t "
    session.add(blank)
    early, p3 = made(app, session, make_protocol, structure=structure)
    designation = session.exec(select(ProtocolTutor).where(ProtocolTutor.protocol_id == early.id))
    designation = designation.one()
    designation.designated_at = at(3, 7)  # later than the other protocols' tutors
    session.add(designation)
    session.commit()
    logged_situation(app, session, early, p3, at(2, 10))  # before its own tutor was designated
    late, p4 = made(app, session, make_protocol, structure=structure)
    logged_situation(app, session, late, p4, at(3, 10))  # window closed 10 March
    pending, p5 = made(app, session, make_protocol, structure=structure)
    logged_situation(app, session, pending, p5, at(6, 10))  # closes 13 March
    moved, p6 = made(app, session, make_protocol, structure=structure)
    logged_situation(app, session, moved, p6, at(3, 10))
    pause(session, moved, p6, at(4, 0), at(8, 0))  # closes 14 March
    untutored, p7 = made(app, session, make_protocol, structure=structure)
    session.delete(
        session.exec(select(ProtocolTutor).where(ProtocolTutor.protocol_id == untutored.id)).one()
    )
    ending, p8 = made(app, session, make_protocol, structure=structure)
    ending.planned_end = date(2026, 3, 15)
    session.add(ending)
    session.commit()
    return [fine, blank, early, late, pending, moved, untutored, ending], people["manager"]


def test_the_protocols_at_risk_are_those_the_compliance_checks_fail(app, session, make_protocol):
    protocols, manager = _risky_protocols(app, session, make_protocol)
    _other, strangers = made(app, session, make_protocol)
    now = at(12, 11)
    found = {
        i.values["public_id"]: i
        for i in items_at(app, session, now, [manager.id])[manager.id]
        if i.kind == Kind.PROTOCOL_AT_RISK
    }
    settings = compliance.Settings.from_config(app.config)
    with travel(now), app.test_request_context():
        checks = compliance.check_many(session, protocols, settings=settings, now=now)
    for protocol in protocols:
        conditions = checks[protocol.id].conditions
        failed = [c.number for c in conditions if c.state == compliance.State.FAILED]
        item = found.get(protocol.public_id)
        assert (item.facts["failed"] if item else []) == failed, protocol.id
        if item and 3 in item.facts["soon"]:
            assert conditions[2].state == compliance.State.PENDING
        if failed:
            assert item.urgency == "late"
    names = ["fine", "blank", "early", "late", "pending", "moved", "untutored", "ending"]
    risk = {
        name: {k: found[p.public_id].facts[k] for k in ("failed", "late", "soon")}
        for name, p in zip(names, protocols, strict=True)
        if p.public_id in found
    }
    assert risk == {
        "blank": {"failed": [1], "late": [], "soon": []},
        "early": {"failed": [2, 3], "late": [], "soon": []},
        "late": {"failed": [3], "late": [], "soon": []},
        "pending": {"failed": [], "late": [], "soon": [3]},
        "moved": {"failed": [], "late": [], "soon": [3]},
        "untutored": {"failed": [2], "late": [], "soon": []},
        "ending": {"failed": [], "late": [], "soon": [4]},
    }
    assert nothing_for(app, session, now, strangers["manager"])
