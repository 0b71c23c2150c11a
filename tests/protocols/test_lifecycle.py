"""The protocol lifecycle through the manager's screens, the three signatures, evaluations,
the bilan and the compliance checklist on the pages."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from sqlalchemy import event
from sqlmodel import select

from afest.core.errors import ServiceError
from afest.models import (
    AuditEntry,
    Autonomy,
    Competence,
    CompetenceBlock,
    Evaluation,
    Level,
    Organisation,
    Protocol,
    ProtocolStatus,
    Referential,
    Role,
    SequenceKind,
    SignerRole,
    User,
    utcnow,
)
from afest.protocols import operations as protocols
from afest.sequences import operations as sequences

MANAGER = "direction@azur-aide.demo"
TUTOR = "tuteur@azur-aide.demo"
PASSWORD = "afest-demo-2026"


def _user(session, email: str) -> User:
    return session.exec(select(User).where(User.email == email)).one()


def _protocol_of(session, email: str) -> Protocol:
    return session.exec(
        select(Protocol).where(Protocol.learner_id == _user(session, email).id)
    ).one()


@pytest.fixture()
def newcomer(session, make_user):
    assoc = session.exec(
        select(Organisation).where(Organisation.name == "Azur Aide à Domicile")
    ).one()
    return make_user(
        [(Role.LEARNER, assoc.id)], name="Nouvelle Recrue", email="recrue@azur-aide.demo"
    )


def _draft_form(session, learner, **over):
    ref = session.exec(select(Referential).where(Referential.code == "AAD-AFEST")).one()
    comps = session.exec(
        select(Competence.id)
        .join(CompetenceBlock, CompetenceBlock.id == Competence.block_id)
        .where(CompetenceBlock.referential_id == ref.id)
    ).all()
    start = date.today()
    data = {
        "learner": str(learner.id),
        "referential": str(ref.id),
        "title": "AFEST d'intégration",
        "objective": "Devenir autonome",
        "activity_analysis": "Interventions choisies, d'abord accompagnées.",
        "work_situations": "Entretien du logement",
        "tutors": [str(_user(session, TUTOR).id)],
        "competences": [str(c) for c in comps[:3]],
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(days=14)).isoformat(),
        "planned_hours": "20",
    }
    data.update(over)
    return data


def test_manager_drafts_positions_submits_and_three_parties_sign(session, login_as, newcomer, app):
    manager = login_as(MANAGER)
    assert manager.get("/protocoles/nouveau").status_code == 200
    response = manager.post("/protocoles/nouveau", data=_draft_form(session, newcomer))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    protocol = _protocol_of(session, "recrue@azur-aide.demo")
    assert protocol.status == ProtocolStatus.DRAFT
    assert protocol.planned_minutes == 20 * 60
    base = f"/protocoles/{protocol.public_id}"

    assert manager.get(f"{base}/modifier").status_code == 200
    levels = session.exec(
        select(Level).where(Level.referential_id == protocol.referential_id).order_by(Level.rank)
    ).all()
    comp_ids = [c.competence_id for c in protocol.competences]
    form = {f"level-{c}": str(levels[0].id) for c in comp_ids}
    assert manager.post(f"{base}/positionnement", data=form).status_code == 302
    bad = {f"level-{comp_ids[0]}": "999999"}
    assert manager.post(f"{base}/positionnement", data=bad).status_code == 422
    plan = {
        "plan-kind": "situation",
        "plan-planned_on": date.today().isoformat(),
        "plan-title": "Ménage",
        "plan-minutes": "180",
    }
    assert manager.post(f"{base}/planning", data=plan).status_code == 302

    assert manager.post(f"{base}/soumettre").status_code == 302
    session.refresh(protocol)
    assert protocol.status == ProtocolStatus.AWAITING_SIGNATURES
    assert manager.get(f"{base}/modifier").status_code == 403  # frozen once submitted

    wrong = manager.post(f"{base}/signer", data={"role": "structure", "password": "nope"})
    assert wrong.status_code == 422
    assert "Mot de passe incorrect" in wrong.get_data(as_text=True)
    assert (
        manager.post(f"{base}/signer", data={"role": "structure", "password": PASSWORD}).status_code
        == 302
    )
    tutor = login_as(TUTOR)
    assert (
        tutor.post(f"{base}/signer", data={"role": "tutor", "password": PASSWORD}).status_code
        == 302
    )
    session.refresh(protocol)
    assert protocol.status == ProtocolStatus.AWAITING_SIGNATURES  # two of three
    learner = login_as("recrue@azur-aide.demo")
    page = learner.get(base).get_data(as_text=True)
    assert "Signer le protocole" in page
    assert (
        learner.post(f"{base}/signer", data={"role": "learner", "password": PASSWORD}).status_code
        == 302
    )
    session.refresh(protocol)
    assert protocol.status == ProtocolStatus.IN_PROGRESS
    assert protocol.started_at is not None
    actions = session.exec(
        select(AuditEntry.action)
        .where(AuditEntry.protocol_id == protocol.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions.count("protocol.sign") == 3
    assert "protocol.positioning" in actions and "protocol.plan" in actions


def test_a_protocol_cannot_start_before_the_three_signatures(session, make_protocol):
    protocol, people = make_protocol(stage="awaiting")
    for role, who in ((SignerRole.STRUCTURE, "manager"), (SignerRole.TUTOR, "tutor")):
        protocols.sign_protocol(
            session, actor_id=people[who].id, protocol=protocol, role=role, method="password"
        )
    assert protocol.status == ProtocolStatus.AWAITING_SIGNATURES
    assert protocol.started_at is None
    data = sequences.SequenceData(
        client_id="too-early",
        occurred_at=utcnow() - timedelta(hours=2),
        duration_minutes=120,
        autonomy=Autonomy.ACCOMPANIED,
        competence_ids=[protocol.competences[0].competence_id],
    )
    with pytest.raises(ServiceError):
        sequences.log_sequence(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            kind=SequenceKind.SITUATION,
            tz=ZoneInfo("Europe/Paris"),
            data=data,
        )
    with pytest.raises(ServiceError):  # the same party cannot sign twice to make up the third
        protocols.sign_protocol(
            session,
            actor_id=people["manager"].id,
            protocol=protocol,
            role=SignerRole.STRUCTURE,
            method="password",
        )
    with pytest.raises(ServiceError):  # nor sign in a role that is not theirs
        protocols.sign_protocol(
            session,
            actor_id=people["manager"].id,
            protocol=protocol,
            role=SignerRole.LEARNER,
            method="password",
        )
    protocols.sign_protocol(
        session,
        actor_id=people["learner"].id,
        protocol=protocol,
        role=SignerRole.LEARNER,
        method="password",
    )
    assert protocol.status == ProtocolStatus.IN_PROGRESS


def test_bad_protocol_form_answers_422_beside_the_field(session, login_as, newcomer):
    data = _draft_form(
        session, newcomer, planned_end=(date.today() - timedelta(days=3)).isoformat()
    )
    response = login_as(MANAGER).post("/protocoles/nouveau", data=data)
    assert response.status_code == 422
    assert "La fin prévue précède le début" in response.get_data(as_text=True)
    data = _draft_form(session, newcomer, tutors=[])
    response = login_as(MANAGER).post("/protocoles/nouveau", data=data)
    assert response.status_code == 422
    assert "Désignez au moins" in response.get_data(as_text=True)
    for start, end, messages in (
        ("0001-01-01", "0001-06-30", ["Date trop ancienne"] * 2),
        ("9999-01-01", "9999-12-31", ["Date trop lointaine"] * 2),
        ("0001-01-01", "9999-12-31", ["Date trop ancienne", "Date trop lointaine"]),
    ):
        data = _draft_form(session, newcomer, planned_start=start, planned_end=end)
        response = login_as(MANAGER).post("/protocoles/nouveau", data=data)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        for name, message in zip(("planned_start", "planned_end"), messages, strict=True):
            assert re.search(rf'id="{name}-error"[^>]*>\s*{message}', page), (name, message)
    assert session.exec(select(Protocol).where(Protocol.learner_id == newcomer.id)).first() is None


def test_stop_needs_a_reason_and_complete_needs_the_final_bilan(session, login_as):
    protocol = _protocol_of(session, "apprenant2@azur-aide.demo")
    manager = login_as(MANAGER)
    base = f"/protocoles/{protocol.public_id}"
    response = manager.post(f"{base}/terminer")
    assert response.status_code == 422
    assert "bilan final doit être signé" in response.get_data(as_text=True)
    assert manager.post(f"{base}/arreter", data={"reason": ""}).status_code == 422
    assert (
        manager.post(f"{base}/arreter", data={"reason": "Départ de la salariée"}).status_code == 302
    )
    session.refresh(protocol)
    assert protocol.status == ProtocolStatus.STOPPED
    assert protocol.stop_reason == "Départ de la salariée"


def test_tutor_evaluates_signs_and_the_bilan_shows_start_and_end(session, login_as):
    protocol = _protocol_of(session, "apprenant-incomplet@azur-aide.demo")
    tutor = login_as(TUTOR)
    base = f"/protocoles/{protocol.public_id}"
    assert tutor.get(f"{base}/evaluations/nouvelle").status_code == 200
    levels = session.exec(
        select(Level).where(Level.referential_id == protocol.referential_id).order_by(Level.rank)
    ).all()
    comp = protocol.competences[0].competence_id
    form = {
        "kind": "intermediate",
        "evaluated_on": date.today().isoformat(),
        "summary": "Progrès nets",
        "client_id": "eval-test-1",
        f"level-{comp}": str(levels[2].id),
    }
    assert (
        tutor.post(f"{base}/evaluations/nouvelle", data={**form, f"level-{comp}": ""}).status_code
        == 422
    )
    response = tutor.post(f"{base}/evaluations/nouvelle", data=form)
    assert response.status_code == 302
    again = tutor.post(f"{base}/evaluations/nouvelle", data=form)  # a repeated submission
    assert again.status_code == 302
    evaluation = session.exec(select(Evaluation).where(Evaluation.protocol_id == protocol.id)).one()
    url = f"/evaluations/{evaluation.public_id}"
    assert (
        tutor.post(f"{url}/signer", data={"role": "tutor", "secret": PASSWORD}).status_code == 302
    )
    page = tutor.get(url).get_data(as_text=True)
    assert "Tuteur·rice" in page
    bilan = login_as("conseil@uniformation.demo").get(f"{base}/bilan").get_data(as_text=True)
    assert levels[2].label in bilan
    assert "Compétences acquises" in bilan


def test_checklist_is_shown_to_manager_and_tutor_only(session, login_as):
    protocol = _protocol_of(session, "apprenant-incomplet@azur-aide.demo")
    url = f"/protocoles/{protocol.public_id}"
    for who in (MANAGER, TUTOR):
        page = login_as(who).get(url).get_data(as_text=True)
        assert "Conditions de l&#39;AFEST" in page or "Conditions de l'AFEST" in page
        assert "L&#39;analyse de l&#39;activité n&#39;est pas renseignée" in page or (
            "L'analyse de l'activité n'est pas renseignée" in page
        )
        assert "Aucune évaluation" in page
    learner_page = login_as("apprenant-incomplet@azur-aide.demo").get(url).get_data(as_text=True)
    assert "D6313-3-2" not in learner_page


def test_manager_list_marks_protocols_at_risk_in_fixed_queries(session, login_as, connection):
    client = login_as(MANAGER)
    counted = []

    def count(*_args, **_kw):
        counted.append(1)

    event.listen(connection, "before_cursor_execute", count)
    try:
        response = client.get("/protocoles/")
    finally:
        event.remove(connection, "before_cursor_execute", count)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("À risque") == 1  # only the protocol made incomplete on purpose
    assert "Quatre conditions remplies" in page
    assert len(counted) <= 20, len(counted)


def test_checklist_links_only_where_the_reader_may_fix_it(session, login_as):
    protocol = _protocol_of(session, "apprenant-incomplet@azur-aide.demo")
    url = f"/protocoles/{protocol.public_id}"
    tablet = f"/tablette/protocoles/{protocol.public_id}"
    evaluate = f"{url}/evaluations/nouvelle"
    manager_page = login_as(MANAGER).get(url).get_data(as_text=True)
    assert tablet not in manager_page and evaluate not in manager_page
    tutor_page = login_as(TUTOR).get(url).get_data(as_text=True)
    assert tablet in tutor_page and evaluate in tutor_page


@pytest.mark.parametrize("status", [s.value for s in ProtocolStatus])
def test_manager_list_filtered_by_each_status_shows_only_that_status(session, login_as, status):
    response = login_as(MANAGER).get(f"/protocoles/?statut={status}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<option value="{status}" selected>' in page
    structure_ids = {r.organisation_id for r in _user(session, MANAGER).roles}
    expected = session.exec(
        select(Protocol.title).where(
            Protocol.status == status, Protocol.structure_id.in_(structure_ids)
        )
    ).all()
    for title in expected:
        assert str(escape(title)) in page


def test_manager_list_with_an_unknown_status_shows_everything(login_as):
    response = login_as(MANAGER).get("/protocoles/?statut=n%27importe")
    assert response.status_code == 200
