"""The tutor's tablet in a real browser (810×1080, touch): situation → reflection → signatures
→ the learner's level changes; axe finds no violation on any page visited; an entry made
while the network is down is kept on the tablet and sent once when it is back."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_axe_clean, login, logout

pytestmark = pytest.mark.browser

TUTOR = "tuteur@azur-aide.demo"
LEARNER = "apprenant3@azur-aide.demo"
PIN = "2468"
PASSWORD = "afest-demo-2026"


def open_first_learner(page) -> str:
    """From the home page to the tablet page of the tutor's first learner in progress."""
    page.get_by_role("navigation").get_by_role("link", name="Mes apprenant·es").tap()
    page.wait_for_url("**/tablette/")
    assert_axe_clean(page)
    page.locator("a.card").filter(has_not_text="incomplet").first.tap()
    page.wait_for_url(re.compile(r"/tablette/protocoles/[^/]+$"))
    assert_axe_clean(page)
    return page.url


def level_of(page, code: str) -> str:
    return page.locator(f'li[data-competence="{code}"] .level-value').inner_text().strip()


def test_tutor_logs_signs_and_the_learner_level_changes(page):
    login(page, TUTOR)
    assert_axe_clean(page)
    learner_url = open_first_learner(page)
    learner_name = page.get_by_role("heading", level=1).inner_text().strip()

    # A work situation: one toggle, free text, save (defaults: now, 60 min, accompanied).
    page.get_by_role("link", name="Nouvelle mise en situation").tap()
    page.wait_for_url("**/situation")
    assert_axe_clean(page)
    toggle = page.locator("#competence_ids label.toggle").first
    code = toggle.locator("strong").inner_text().strip()
    toggle.tap()
    page.get_by_label("Intention pédagogique annoncée").fill("Aide au repas d'une résidente")
    page.get_by_label("Observations du·de la tuteur·rice").fill("Installation correcte")
    page.get_by_role("button", name="Enregistrer").tap()
    page.wait_for_url(re.compile(r"/sequences/[^/]+\?saved=1"))
    page.get_by_text("Enregistrée sur le serveur.").wait_for()
    assert_axe_clean(page)

    # The tutor signs with the PIN; the learner countersigns right away on the tablet.
    page.get_by_label("Votre code PIN ou mot de passe").fill(PIN)
    page.get_by_role("button", name="Signer", exact=True).tap()
    page.get_by_text("Séquence signée.").wait_for()
    assert_axe_clean(page)
    page.get_by_label("Mot de passe de l'apprenant·e").fill(PASSWORD)
    page.get_by_role("button", name="Contresigner").tap()
    page.get_by_text("Séquence contresignée.").wait_for()
    assert_axe_clean(page)

    page.goto(learner_url)
    before = level_of(page, code)

    # The reflexive sequence: the situation just logged is preselected.
    page.get_by_role("link", name="Nouvelle séquence réflexive").tap()
    page.wait_for_url("**/reflexion")
    assert_axe_clean(page)
    preselected = page.locator("#situation_ids input:checked")
    assert preselected.count() >= 1
    page.get_by_label("Ce qui était attendu").fill("Installer la résidente en sécurité")
    page.get_by_label("Ce qui a été appris").fill("Vérifier la texture avant de servir")
    page.get_by_label("Les mots de l'apprenant·e").fill("J'ai pris mon temps")
    group = page.locator("fieldset.level").filter(
        has=page.locator("legend", has_text=re.compile(rf"^{re.escape(code)} "))
    )
    choices = group.locator("label.toggle")
    labels = [t.strip() for t in choices.all_inner_texts()]
    target = next(t for t in reversed(labels) if t not in (before, "Non travaillée"))
    choices.filter(has_text=target).first.tap()
    page.get_by_role("button", name="Enregistrer").tap()
    page.wait_for_url(re.compile(r"/sequences/[^/]+\?saved=1"))
    assert_axe_clean(page)
    reflection_url = page.url.split("?")[0]
    page.get_by_label("Votre code PIN ou mot de passe").fill(PIN)
    page.get_by_role("button", name="Signer", exact=True).tap()
    page.get_by_text("Séquence signée.").wait_for()

    page.goto(learner_url)
    assert level_of(page, code) == target != before
    assert_axe_clean(page)
    logout(page)

    # Later, from their own account, the learner countersigns and sees the new level.
    login(page, LEARNER)
    assert_axe_clean(page)
    page.goto(reflection_url + "/contresigner")
    assert_axe_clean(page)
    page.get_by_label("Mot de passe de l'apprenant·e").fill(PASSWORD)
    page.get_by_role("button", name="Contresigner").tap()
    page.get_by_text("Séquence contresignée.").wait_for()
    assert_axe_clean(page)
    page.get_by_role("link", name=re.compile("AFEST")).first.tap()
    row = page.locator("tr").filter(has=page.locator("th", has_text=re.compile(rf"^{code} ")))
    assert target in row.inner_text()
    assert learner_name
    assert_axe_clean(page)


def test_entry_made_offline_is_kept_and_sent_once_when_back_online(page):
    login(page, TUTOR)
    learner_url = open_first_learner(page)
    page.get_by_role("link", name="Nouvelle mise en situation").tap()
    page.wait_for_url("**/situation")
    page.locator("#competence_ids label.toggle").first.tap()
    page.get_by_label("Observations du·de la tuteur·rice").fill("Saisie sans réseau")

    page.context.set_offline(True)
    page.get_by_role("button", name="Enregistrer").tap()
    status = page.locator("[data-sync-status]").first
    status.filter(has_text="en attente d'envoi").wait_for()
    assert status.get_attribute("data-state") == "waiting"
    assert page.evaluate("() => JSON.parse(localStorage.getItem('afest:queue')).length") == 1
    assert_axe_clean(page)
    page.get_by_role("button", name="Enregistrer").tap()  # a second tap while offline
    assert page.evaluate("() => JSON.parse(localStorage.getItem('afest:queue')).length") == 1

    page.context.set_offline(False)
    status.filter(has_text="Tout est enregistré").wait_for()
    assert page.evaluate("() => JSON.parse(localStorage.getItem('afest:queue')).length") == 0
    page.goto(learner_url)
    cards = page.locator("a.card").filter(has_text="Mise en situation")
    page.goto(cards.first.get_attribute("href"))
    assert page.get_by_text("Saisie sans réseau").count() == 1
