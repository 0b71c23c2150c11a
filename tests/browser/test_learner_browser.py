"""The learner in a real browser, on a phone (390×844) and on a tablet (810×1080): progress
per block as in the database, countersigning a pending sequence, the VAE timeline; axe finds
no violation on any of these pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from afest.assessments import progress
from afest.models import Protocol, ProtocolStatus, User, VaePathway, VaeState
from tests.browser.conftest import PASSWORD, assert_axe_clean, login

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 810, "height": 1080}}


@pytest.fixture(scope="module")
def live_db(live_server, tmp_path_factory):
    """The live server's database, read directly to compare the pages with it."""
    path = next(tmp_path_factory.getbasetemp().glob("live*/afest.sqlite"))
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def care_learners_with_pending(engine) -> list[str]:
    """#CARE-SKILLS learners with a sequence awaiting their countersignature."""
    with Session(engine) as session:
        rows = session.exec(
            select(User.email)
            .join(Protocol, Protocol.learner_id == User.id)
            .where(
                User.email.like("apprenant%@ehpad-%"), Protocol.status == ProtocolStatus.IN_PROGRESS
            )
            .distinct()
            .order_by(User.email)
        ).all()
        found = []
        for email in rows:
            learner = session.exec(select(User).where(User.email == email)).one()
            if progress.progress(session, learner, today=date.today()).pending_sequences:
                found.append(email)
        return found


def blocks_in_db(engine, email: str) -> dict[str, tuple[int, int]]:
    with Session(engine) as session:
        learner = session.exec(select(User).where(User.email == email)).one()
        view = progress.progress(session, learner, today=date.today())
        return {b.code: (b.acquired, b.targeted) for b in view.blocks}


@pytest.fixture()
def device(browser, live_server, request):
    context = browser.new_context(
        base_url=live_server,
        viewport=SIZES[request.param],
        has_touch=True,
        is_mobile=request.param == "phone",
        locale="fr-FR",
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    tab.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    yield request.param, tab
    context.close()
    assert not problems, problems


@pytest.mark.parametrize("device", ["phone", "tablet"], indirect=True)
def test_learner_progress_countersign_and_vae_timeline(device, live_db):
    size, page = device
    candidates = care_learners_with_pending(live_db)
    # each size takes its own learner: the first countersignature changes the database
    email = candidates[0 if size == "phone" else 1]
    login(page, email, PASSWORD)

    page.get_by_role("navigation").get_by_role("link", name="Mon parcours").tap()
    page.wait_for_url(re.compile(r"/parcours/[^/]+$"))
    page.get_by_role("heading", level=1, name="Mon parcours").wait_for()
    expected = blocks_in_db(live_db, email)
    assert expected
    for code, (acquired, targeted) in expected.items():
        shown = page.locator(f'[data-block="{code}"]').inner_text()
        assert shown == f"{acquired} acquises sur {targeted}", (code, shown)
    assert page.locator("svg.chart-levels").count() == len(expected)
    assert_axe_clean(page)
    if size == "phone":  # nothing wider than the screen: no sideways scrolling
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    # Countersign the first sequence awaiting the learner.
    pending = page.locator("section.attention a.card").filter(has_text="à contresigner")
    before = pending.count()
    assert before >= 1
    pending.first.tap()
    page.wait_for_url(re.compile(r"/sequences/[^/]+/contresigner$"))
    assert_axe_clean(page)
    page.get_by_label("Mot de passe de l'apprenant·e").fill(PASSWORD)
    page.get_by_role("button", name="Contresigner", exact=True).tap()
    page.get_by_text("Séquence contresignée.").wait_for()
    page.get_by_role("navigation").get_by_role("link", name="Mon parcours").tap()
    page.wait_for_url(re.compile(r"/parcours/[^/]+$"))
    assert (
        page.locator("section.attention a.card").filter(has_text="à contresigner").count()
        == before - 1
    )

    # The VAE timeline and the next step.
    page.get_by_role("link", name="Voir mon parcours VAE").tap()
    page.wait_for_url(re.compile(r"/vae/[^/]+$"))
    page.get_by_role("heading", name="Les étapes franchies").wait_for()
    assert page.locator(".vae-timeline li").count() >= 1
    assert page.locator("#vae-state").inner_text().strip()
    assert_axe_clean(page)
    if size == "phone":
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("device", ["phone"], indirect=True)
def test_other_learner_and_vae_pages_are_axe_clean(device, live_db):
    _size, page = device
    with Session(live_db) as session:
        jury_learner = session.exec(
            select(User.email)
            .join(VaePathway, VaePathway.learner_id == User.id)
            .where(VaePathway.state == VaeState.JURY_RESULTAT)
            .order_by(User.email)
        ).first()
    login(page, jury_learner, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Mon parcours").tap()
    page.get_by_role("link", name="Voir mes données").tap()
    page.get_by_role("heading", level=1, name="Mes données").wait_for()
    assert_axe_clean(page)
    page.goto("/vae/")
    page.locator("a.card").first.tap()
    page.get_by_role("heading", name="Résultats par bloc").wait_for()
    assert_axe_clean(page)
    page.get_by_role("link", name="Auto-évaluation du dossier de faisabilité").tap()
    page.get_by_role("heading", level=1).wait_for()
    assert_axe_clean(page)
    page.go_back()
    page.locator("ul.plain a").first.tap()
    page.get_by_role("heading", level=1, name="Dossier de validation — brouillon").wait_for()
    assert_axe_clean(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("device", ["tablet"], indirect=True)
def test_consultant_recording_form_and_feasibility_form_are_axe_clean(device, live_db):
    _size, page = device
    login(page, "consultant@aract-paca.demo", PASSWORD)
    with Session(live_db) as session:
        consultant = session.exec(
            select(User).where(User.email == "consultant@aract-paca.demo")
        ).one()
        pathway = session.exec(
            select(VaePathway)
            .where(
                VaePathway.consultant_id == consultant.id, VaePathway.state == VaeState.VALIDATION
            )
            .order_by(VaePathway.id)
        ).first()
    page.goto(f"/vae/{pathway.public_id}")
    page.get_by_role("heading", name="Noter une étape").wait_for()
    assert_axe_clean(page)
    # A refused step shows its message beside the field, and stays axe-clean.
    page.get_by_label("Date de l'étape").fill("2999-01-01")
    page.get_by_role("button", name="Enregistrer l'étape").tap()
    page.locator("#occurred_on-error").wait_for()
    assert_axe_clean(page)
    page.goto(f"/vae/{pathway.public_id}/faisabilite?depuis=afest")
    page.get_by_role("button", name="Enregistrer mon auto-évaluation").wait_for()
    assert_axe_clean(page)


@pytest.mark.parametrize("device", ["phone"], indirect=True)
def test_progress_fits_a_phone_with_its_lists_folded(device, live_db):
    """The demo learner's page: about three screens, not nine; every fold opens from the
    keyboard and the page stays axe-clean with all of them open."""
    _size, page = device
    login(page, "apprenant@azur-aide.demo", PASSWORD)
    page.goto("/parcours/")
    page.get_by_role("heading", level=1, name="Mon parcours").wait_for()
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height <= 4 * 844, height  # 7,513 px before the folds and the step charts
    steps = page.locator("svg.chart-steps[role=img]")
    assert steps.count() == len(blocks_in_db(live_db, "apprenant@azur-aide.demo"))
    assert "en 5 moments" in steps.first.locator("title").text_content()
    folds = page.locator("details.fold")
    assert folds.count() >= 4
    for i in range(folds.count()):
        summary = folds.nth(i).locator("summary")
        assert re.search(r"\(\d+\)$", summary.inner_text().strip())
        summary.focus()
        page.keyboard.press("Enter")
        assert folds.nth(i).evaluate("d => d.open")
    assert_axe_clean(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
