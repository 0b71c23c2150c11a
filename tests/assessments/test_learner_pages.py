"""Mon parcours, the export of one's data, and the 404 wall between learners."""

from __future__ import annotations

import html.parser
import json
from datetime import date, timedelta

from sqlmodel import select

from afest.assessments import progress
from afest.models import User, VaePathway
from tests.learner_factories import history, sign, situation, start_of, targeted

CARE = "apprenant1@ehpad-01.demo"
OTHER = "apprenant2@ehpad-01.demo"


def _user(session, email):
    return session.exec(select(User).where(User.email == email)).one()


def test_learner_sees_progress_per_block_as_in_the_database(session, login_as):
    learner = _user(session, CARE)
    page = login_as(CARE).get("/parcours/", follow_redirects=True)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    view = progress.progress(session, learner, today=date.today())
    assert view.blocks
    for block in view.blocks:
        assert f'data-block="{block.code}"' in html
        assert f"{block.acquired} acquises sur {block.targeted}" in html
    assert "<svg" in html and "<table>" in html
    assert 'style="' not in html and "<script>" not in html


def test_another_learners_urls_answer_404(session, login_as):
    other = _user(session, OTHER)
    pathway = session.exec(select(VaePathway).where(VaePathway.learner_id == other.id)).one()
    client = login_as(CARE)
    for url in (
        f"/parcours/{other.public_id}",
        f"/parcours/{other.public_id}/donnees",
        f"/parcours/{other.public_id}/donnees.json",
        f"/vae/{pathway.public_id}",
        f"/vae/{pathway.public_id}/faisabilite",
        f"/vae/{pathway.public_id}/dossier",
        f"/vae/{pathway.public_id}/dossier.docx",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/vae/{pathway.public_id}/faisabilite").status_code == 404
    assert client.post(f"/vae/{pathway.public_id}/etapes").status_code == 404


def test_pending_sequence_links_to_its_countersignature(session, make_protocol, login_as):
    protocol, people = make_protocol()
    made = history(session, protocol, people, 4, countersign_last=False)
    html = (
        login_as(people["learner"].email)
        .get(f"/parcours/{people['learner'].public_id}")
        .get_data(as_text=True)
    )
    assert "À relire et signer" in html
    assert f"/sequences/{made[-1].public_id}/contresigner" in html
    assert f"/sequences/{made[0].public_id}/contresigner" not in html


def test_export_holds_everything_about_the_learner_and_no_secrets(session, make_protocol, login_as):
    protocol, people = make_protocol()
    history(session, protocol, people, 2)
    learner = people["learner"]
    client = login_as(learner.email)
    response = client.get(f"/parcours/{learner.public_id}/donnees.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["person"]["email"] == learner.email
    [exported] = data["protocols"]
    assert exported["id"] == protocol.public_id
    assert len(exported["sequences"]) == 2
    assert exported["sequences"][1]["learner_words"] == "J'ai pris confiance."
    assert {s["role"] for s in exported["sequences"][0]["signatures"]} == {"tutor", "learner"}
    assert data["login_sessions"]  # this very login
    body = response.get_data(as_text=True)
    assert learner.password_hash not in body and "password_hash" not in body
    assert "token" not in body

    page = client.get(f"/parcours/{learner.public_id}/donnees")
    assert page.status_code == 200
    assert "J&#39;ai pris confiance." in page.get_data(as_text=True)


def test_vae_learner_sees_the_timeline_and_next_step_but_no_recording_form(session, login_as):
    learner = _user(session, CARE)
    pathway = session.exec(select(VaePathway).where(VaePathway.learner_id == learner.id)).one()
    html = login_as(CARE).get(f"/vae/{pathway.public_id}").get_data(as_text=True)
    assert 'id="vae-state"' in html
    assert "Noter une étape" not in html
    assert login_as(CARE).post(f"/vae/{pathway.public_id}/etapes").status_code == 403


class FoldParser(html.parser.HTMLParser):
    """Each <details data-fold> of a page: its summary's text and what it holds (sequence
    items, body rows, cards), in page order."""

    def __init__(self):
        super().__init__()
        self.folds: list[dict] = []
        self.open: list[dict] = []
        self.in_summary = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "details":
            fold = {"fold": attrs.get("data-fold"), "summary": "", "li": 0, "tr": 0}
            self.folds.append(fold)
            self.open.append(fold)
        elif tag == "summary":
            self.in_summary = True
        elif self.open and tag in ("li", "tr"):
            self.open[-1][tag] += 1

    def handle_endtag(self, tag):
        if tag == "details":
            self.open.pop()
        elif tag == "summary":
            self.in_summary = False

    def handle_data(self, data):
        if self.in_summary:
            self.open[-1]["summary"] += data.strip()


def _folds(client, learner) -> list[dict]:
    response = client.get(f"/parcours/{learner.public_id}")
    assert response.status_code == 200
    parser = FoldParser()
    parser.feed(response.get_data(as_text=True))
    return parser.folds


def test_long_lists_fold_behind_their_counts(session, make_protocol, login_as):
    protocol, people = make_protocol()
    history(session, protocol, people, 7)  # reflections on C1, C2 (first block) and C3
    folds = _folds(login_as(people["learner"].email), people["learner"])
    # per block: its moments, then its competences (two of the four targeted in each)
    assert [(f["fold"], f["summary"], f["tr"]) for f in folds[:4]] == [
        ("moments", "Moment par moment (2)", 3),  # a header row and one row per moment
        ("competences", "Compétences (2)", 3),
        ("moments", "Moment par moment (1)", 2),
        ("competences", "Compétences (2)", 3),
    ]
    # the latest sequence stays in sight, the six before it are folded
    [sequences] = [f for f in folds if f["fold"] == "sequences"]
    assert (sequences["summary"], sequences["li"]) == ("Séquences précédentes (6)", 6)
    assert not [f for f in folds if f["fold"] == "pending"]


def test_pending_countersignatures_beyond_three_fold(session, make_protocol, login_as):
    protocol, people = make_protocol()
    at = start_of(protocol)
    for i in range(5):
        made = situation(
            session,
            protocol,
            people,
            at=at + timedelta(hours=i),
            competence_ids=[targeted(session, protocol)[0].competence_id],
        )
        sign(session, protocol, people, made, learner=False)
    session.commit()
    client = login_as(people["learner"].email)
    html_page = client.get(f"/parcours/{people['learner'].public_id}").get_data(as_text=True)
    [pending] = [f for f in _folds(client, people["learner"]) if f["fold"] == "pending"]
    assert (pending["summary"], pending["li"]) == ("Autres séquences à contresigner (2)", 2)
    assert html_page.count("à contresigner</span>") == 5  # three in sight, two folded


def test_each_block_draws_its_moments_with_a_table_of_the_same_figures(
    session, make_protocol, login_as
):
    protocol, people = make_protocol()
    history(session, protocol, people, 4)
    html_page = (
        login_as(people["learner"].email)
        .get(f"/parcours/{people['learner'].public_id}")
        .get_data(as_text=True)
    )
    view = progress.progress(session, people["learner"], today=date.today())
    first = view.blocks[0]
    assert len(first.moments) == 2
    assert f'<polyline class="steps" points="{first.chart.line}">' in html_page
    assert html_page.count('<svg class="chart chart-steps"') == sum(
        1 for b in view.blocks if b.moments
    )
    assert 'role="img" aria-labelledby="bloc-1-steps-t"' in html_page
    assert f'<caption id="bloc-1-mcap">Compétences acquises du bloc {first.code}' in html_page
    assert f"{first.moments[-1].acquired} sur {first.targeted}</td>" in html_page
