"""The admin in a real browser (CSRF on, as in production): signed in straight to the page
she asked for, the Courriels page filtered by state and paged, the Comptes page searched
as she types and an account deactivated then reactivated; axe finds no violation."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlmodel import Session

from afest.models import MailState, OutboxMessage
from tests.browser.conftest import PASSWORD, assert_axe_clean, login

pytestmark = pytest.mark.browser

ADMIN = "admin@afest.demo"


@pytest.fixture(scope="module")
def live_db(live_server, tmp_path_factory):
    path = next(tmp_path_factory.getbasetemp().glob("live*/afest.sqlite"))
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _messages(engine, **subjects: MailState) -> None:
    with Session(engine) as session:
        for subject, state in subjects.items():
            token = secrets.token_hex(6)
            session.add(
                OutboxMessage(
                    event_key=f"browser:{token}",
                    to_address=f"{token}@example.org",
                    to_name="Destinataire",
                    locale="fr",
                    template="test_message",
                    message_id=f"<{token}@afest.localhost>",
                    subject=subject,
                    body_text="Texte",
                    body_html="<p>Texte</p>",
                    state=state,
                    attempts=1,
                )
            )
        session.commit()


def test_the_courriels_page_filters_by_state(page, live_db):
    _messages(live_db, Parti_sans_souci=MailState.SENT, Refuse_par_le_serveur=MailState.FAILED)
    page.goto("/admin/courriels")
    page.wait_for_url("**/connexion?next=*")
    page.get_by_label("Adresse e-mail").fill(ADMIN)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").tap()
    page.wait_for_url("**/admin/courriels")  # where she was going
    assert_axe_clean(page)
    table = page.locator("table")
    assert "Parti_sans_souci" in table.inner_text()
    page.get_by_label("État").select_option("failed")
    page.get_by_role("button", name="Filtrer").tap()
    page.wait_for_url("**/admin/courriels?etat=failed*")
    shown = table.inner_text()
    assert "Refuse_par_le_serveur" in shown and "Parti_sans_souci" not in shown
    assert page.locator(".mail-counts [aria-current=page]").inner_text().startswith("En échec")
    assert_axe_clean(page)
    page.goto("/admin/courriels?etat=sent&page=²")  # no such page: the first, still filtered
    shown = table.inner_text()
    assert "Parti_sans_souci" in shown and "Refuse_par_le_serveur" not in shown


def test_the_comptes_page_searches_deactivates_and_reactivates(page):
    login(page, ADMIN)
    page.goto("/admin/comptes")
    assert_axe_clean(page)
    page.get_by_label("Rechercher un nom ou une adresse").fill("tuteur@azur-aide")
    rows = page.locator("#accounts tbody tr")
    rows.filter(has_text="tuteur@azur-aide.demo").wait_for()
    expect(rows).to_have_count(1)  # the list narrowed as she typed (htmx)
    rows.get_by_role("button", name="Désactiver").tap()
    page.wait_for_url("**/admin/comptes?q=tuteur*")
    assert "Compte désactivé : ses sessions sont fermées." in page.locator(".flash").inner_text()
    assert rows.filter(has_text="tuteur@azur-aide.demo").inner_text().count("Désactivé") == 1
    assert_axe_clean(page)
    rows.get_by_role("button", name="Réactiver").tap()
    expect(page.locator(".flash")).to_have_text("Compte réactivé.")  # the same address again
    assert "Actif" in rows.inner_text()
