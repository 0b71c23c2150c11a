"""VAE pages: who records milestones, refusals shown beside the field, the self-assessment,
and the draft dossier de validation as a page and a Word file."""

from __future__ import annotations

import io
from datetime import date, timedelta

from docx import Document
from sqlmodel import select

from afest.models import User, VaeMilestone, VaePathway, VaeState
from afest.vae import queries as vae_queries
from afest.vae import states as vae_states

CONSULTANT = "consultant@aract-paca.demo"


def _accompanied(session, *states):
    consultant = session.exec(select(User).where(User.email == CONSULTANT)).one()
    return session.exec(
        select(VaePathway)
        .where(VaePathway.consultant_id == consultant.id, VaePathway.state.in_(states))
        .order_by(VaePathway.id)
    ).first()


def test_consultant_records_the_next_milestone(session, login_as):
    pathway = _accompanied(session, VaeState.VALIDATION)
    before = len(vae_queries.timeline(session, pathway.id))
    client = login_as(CONSULTANT)
    page = client.get(f"/vae/{pathway.public_id}").get_data(as_text=True)
    assert "Noter une étape" in page
    response = client.post(
        f"/vae/{pathway.public_id}/etapes",
        data={"state": "prise_en_charge", "occurred_on": date.today().isoformat(), "note": "RDV"},
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(VaePathway, pathway.id).state == VaeState.PRISE_EN_CHARGE
    assert len(vae_queries.timeline(session, pathway.id)) == before + 1


def test_out_of_order_milestone_is_refused_beside_the_field(session, login_as):
    pathway = _accompanied(session, VaeState.PARCOURS_CONFIRME, VaeState.VALIDATION)
    count = len(
        session.exec(select(VaeMilestone).where(VaeMilestone.pathway_id == pathway.id)).all()
    )
    client = login_as(CONSULTANT)
    response = client.post(
        f"/vae/{pathway.public_id}/etapes",
        data={"state": "jury_resultat", "occurred_on": date.today().isoformat()},
    )
    assert response.status_code == 422
    assert 'id="state-error"' in response.get_data(as_text=True)
    future = client.post(
        f"/vae/{pathway.public_id}/etapes",
        data={
            "state": vae_queries.next_states(pathway)[0].value,
            "occurred_on": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    assert future.status_code == 422
    assert 'id="occurred_on-error"' in future.get_data(as_text=True)
    assert (
        len(session.exec(select(VaeMilestone).where(VaeMilestone.pathway_id == pathway.id)).all())
        == count
    )


def test_consultant_following_the_cohort_sees_but_does_not_record(session, login_as):
    consultant = session.exec(select(User).where(User.email == CONSULTANT)).one()
    other = session.exec(
        select(VaePathway).where(VaePathway.consultant_id != consultant.id).order_by(VaePathway.id)
    ).first()
    client = login_as(CONSULTANT)
    assert client.get(f"/vae/{other.public_id}").status_code == 200
    assert "Noter une étape" not in client.get(f"/vae/{other.public_id}").get_data(as_text=True)
    assert client.post(f"/vae/{other.public_id}/etapes").status_code == 403


def test_manager_of_the_structure_records(session, login_as):
    pathway = session.exec(
        select(VaePathway)
        .join(User, User.id == VaePathway.learner_id)
        .where(User.email == "apprenant1@ehpad-01.demo")
    ).one()
    client = login_as("direction@ehpad-01.demo")
    assert "Noter une étape" in client.get(f"/vae/{pathway.public_id}").get_data(as_text=True)
    assert login_as("direction@ehpad-02.demo").get(f"/vae/{pathway.public_id}").status_code == 404


def test_learner_prefills_and_saves_the_self_assessment(session, login_as):
    pathway = session.exec(
        select(VaePathway).where(VaePathway.state.in_(sorted(vae_states.FEASIBILITY_OPEN)))
    ).first()
    learner = session.get(User, pathway.learner_id)
    client = login_as(learner.email)
    prefilled = client.get(f"/vae/{pathway.public_id}/faisabilite?depuis=afest")
    assert prefilled.status_code == 200
    html = prefilled.get_data(as_text=True)
    assert "checked" in html  # answers proposed from the AFEST levels
    suggestion = vae_queries.prefill_from_afest(session, pathway)
    data = {f"c_{k}": v.value for k, v in suggestion.items()}
    response = client.post(f"/vae/{pathway.public_id}/faisabilite", data=data)
    assert response.status_code == 302
    stored = vae_queries.feasibility_answers(session, pathway.id)
    assert {k: a.answer for k, a in stored.items()} == suggestion
    bad = client.post(f"/vae/{pathway.public_id}/faisabilite", data={next(iter(data)): "peut-etre"})
    assert bad.status_code == 422


def test_dossier_page_and_word_download(session, login_as):
    learner = session.exec(select(User).where(User.email == "apprenant1@ehpad-01.demo")).one()
    pathway = session.exec(select(VaePathway).where(VaePathway.learner_id == learner.id)).one()
    client = login_as(learner.email)
    page = client.get(f"/vae/{pathway.public_id}/dossier")
    assert page.status_code == 200
    assert "Dossier de validation" in page.get_data(as_text=True)
    assert client.get(f"/vae/{pathway.public_id}/dossier?bloc=NOPE").status_code == 404
    docx = client.get(f"/vae/{pathway.public_id}/dossier.docx")
    assert docx.status_code == 200
    assert docx.mimetype.endswith("wordprocessingml.document")
    document = Document(io.BytesIO(docx.data))
    assert any("Dossier de validation" in p.text for p in document.paragraphs)


def test_index_lists_pathways_in_scope(session, login_as):
    html = login_as(CONSULTANT).get("/vae/").get_data(as_text=True)
    assert html.count('class="card"') == len(session.exec(select(VaePathway)).all())
    assert login_as("tuteur@ehpad-01.demo").get("/vae/").status_code == 403


def test_a_choice_of_blanks_counts_as_no_choice(session, login_as):
    """A posted choice of spaces only is no answer, never a crash: Optional() lets it past
    the choice check, so the form reads it as blank."""
    pathway = session.exec(
        select(VaePathway).where(VaePathway.state.in_(sorted(vae_states.FEASIBILITY_OPEN)))
    ).first()
    client = login_as(session.get(User, pathway.learner_id).email)
    competence_id = next(iter(vae_queries.prefill_from_afest(session, pathway)))
    saved = client.post(f"/vae/{pathway.public_id}/faisabilite", data={f"c_{competence_id}": " "})
    assert saved.status_code == 302
    assert competence_id not in vae_queries.feasibility_answers(session, pathway.id)

    pathway = _accompanied(session, VaeState.VALIDATION)
    block = vae_queries.blocks_of(session, pathway.referential_id)[0]
    recorded = login_as(CONSULTANT).post(
        f"/vae/{pathway.public_id}/etapes",
        data={
            "state": "prise_en_charge",
            "occurred_on": date.today().isoformat(),
            "jury_result": " ",
            f"block_{block.id}": " ",
        },
    )
    assert recorded.status_code == 302
    session.expire_all()
    assert session.get(VaePathway, pathway.id).state == VaeState.PRISE_EN_CHARGE
