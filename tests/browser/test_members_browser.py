"""The members of an OPCO in a real browser, on a tablet: the administrator adds an adviser
on the OPCO's page, the adviser follows her invitation and lands on the OPCO dashboard; the
pages pass axe (a screenshot of each is kept in the test's temporary folder)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from afest.models.mail import OutboxMessage
from tests.browser.conftest import assert_axe_clean, login

pytestmark = pytest.mark.browser

ADMIN = "admin@afest.demo"
ADVISER = "lea.morel@uniformation.example"


@pytest.fixture(scope="module")
def live_db(live_server, tmp_path_factory):
    """The live server's database, read directly for the invitation's link."""
    path = next(tmp_path_factory.getbasetemp().glob("live*/afest.sqlite"))
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _invitation(engine, email: str) -> str:
    with Session(engine) as session:
        message = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.to_address == email, OutboxMessage.template == "invitation")
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert message is not None
    return re.search(r"http://\S+?(/invitation/[^\s\"<]+)", message.body_text).group(1)


def test_an_adviser_added_on_the_opco_page_reaches_its_dashboard(
    page, browser, live_server, live_db, tmp_path
):
    login(page, ADMIN)
    page.goto("/admin/structures")
    assert_axe_clean(page)
    page.screenshot(path=tmp_path / "structures.png", full_page=True)
    page.get_by_role("link", name="OPCO", exact=True).first.tap()
    page.get_by_role("link", name="Uniformation").tap()
    members = page.get_by_role("table", name="Conseillers et conseillères de l'OPCO")
    assert "Hélène Vidal" in members.inner_text()
    assert_axe_clean(page)

    page.get_by_role("button", name="Ajouter et inviter").tap()
    page.wait_for_url(re.compile(r"/membres#ajouter-membre$"))
    assert page.get_by_text("Indiquez le nom de la personne.").is_visible()
    assert_axe_clean(page)
    page.get_by_label("Nom et prénom").fill("Léa Morel")
    page.get_by_label("Adresse e-mail").fill(ADVISER)
    page.get_by_role("button", name="Ajouter et inviter").tap()
    page.wait_for_url(re.compile(r"/admin/opco/[^/]+#membres$"))
    assert page.get_by_text(f"une invitation est partie pour {ADVISER}").is_visible()
    row = members.get_by_role("row").filter(has_text="Léa Morel")
    assert "Invitation envoyée" in row.inner_text()
    assert row.get_by_role("button", name="Renvoyer l'invitation à Léa Morel").is_visible()
    assert_axe_clean(page)
    page.screenshot(path=tmp_path / "opco_members.png", full_page=True)

    context = browser.new_context(
        base_url=live_server, viewport={"width": 810, "height": 1080}, locale="fr-FR"
    )
    adviser = context.new_page()
    adviser.goto(_invitation(live_db, ADVISER))
    adviser.get_by_label("Mot de passe", exact=True).fill("un-mot-de-passe-choisi")
    adviser.get_by_label("Confirmez le mot de passe").fill("un-mot-de-passe-choisi")
    adviser.get_by_role("button", name="Activer mon compte").click()
    adviser.wait_for_url(lambda url: "/invitation/" not in url)
    adviser.goto("/tableaux/opco")
    adviser.screenshot(path=tmp_path / "adviser_dashboard.png")
    assert adviser.get_by_role("heading", name="Tableau de bord OPCO").is_visible()
    assert "Azur Aide à Domicile" in adviser.content()
    context.close()

    page.goto("/admin/accompagnement")
    page.get_by_role("link", name="Aract PACA").tap()
    assert (
        "CARE-SKILLS-2026"
        in page.get_by_role("table", name="Consultant·es de l'organisme").inner_text()
    )
    assert_axe_clean(page)
    page.screenshot(path=tmp_path / "support_body_members.png", full_page=True)
