"""Rappels et agenda in a real browser (CSRF on, as in production): the tutor opens the page
from the footer, chooses her reminders, makes her calendar address (a webcal:// link and a
copyable address), renews it (the old one answers 404 at once) and revokes it; axe finds no
violation at any step."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.browser.conftest import assert_axe_clean, login

pytestmark = pytest.mark.browser

# a tutor the other browser tests leave alone (the authorization table's objects give the
# demo's first tutor a calendar address of her own)
TUTOR = "tuteur@ehpad-03.demo"


def feed_path(page) -> str:
    """The path of the address shown (PUBLIC_BASE_URL names another port than the test's)."""
    return urlsplit(page.get_by_label("Ou copiez cette adresse").input_value()).path


def test_the_tutor_chooses_her_reminders_and_her_calendar(page):
    login(page, TUTOR)
    page.get_by_role("link", name="Rappels et agenda").tap()
    page.wait_for_url("**/compte/rappels")
    expect(page.get_by_label("Quotidien")).to_be_checked()
    assert_axe_clean(page)

    page.get_by_label("Jamais").check()
    page.get_by_role("button", name="Enregistrer").tap()
    expect(page.get_by_text("Votre choix de rappels est enregistré.")).to_be_visible()
    expect(page.get_by_label("Jamais")).to_be_checked()
    assert_axe_clean(page)

    page.get_by_role("button", name="Créer mon adresse d'agenda").tap()
    webcal = page.get_by_role("link", name="Ajouter à l'agenda de cet appareil")
    expect(webcal).to_have_attribute("href", re.compile(r"^webcal://127\.0\.0\.1:5000/agenda/"))
    first = feed_path(page)
    assert_axe_clean(page)
    answer = page.request.get(first)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/calendar")
    assert Calendar.from_ical(answer.body()).walk("VEVENT")

    page.get_by_role("button", name="Renouveler l'adresse").tap()
    expect(page.get_by_text("Nouvelle adresse prête")).to_be_visible()
    renewed = feed_path(page)
    assert renewed != first
    assert page.request.get(first).status == 404
    assert page.request.get(renewed).status == 200

    page.reload()
    expect(page.get_by_label("Ou copiez cette adresse")).to_have_count(0)  # shown once
    page.get_by_role("button", name="Révoquer l'adresse").tap()
    expect(page.get_by_role("button", name="Créer mon adresse d'agenda")).to_be_visible()
    assert page.request.get(renewed).status == 404
    assert_axe_clean(page)
