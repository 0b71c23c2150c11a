"""The tutor's tablet in a real browser (810×1080, touch): situation → reflection → signatures
→ the learner's level changes, saved and signed in one tap each; axe finds no violation on
any page visited; an entry made while the network is down is kept on the tablet, for her
only, and sent once when it is back."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import pytest

from tests.browser.conftest import assert_axe_clean, login, logout

pytestmark = pytest.mark.browser

TUTOR = "tuteur@azur-aide.demo"
OTHER_TUTOR = "tutrice2@azur-aide.demo"
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
    page.get_by_role("button", name="Enregistrer sans signer").tap()
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
    page.get_by_role("button", name="Enregistrer sans signer").tap()
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


def test_a_situation_and_its_reflection_signed_in_eight_taps_at_most(page):
    """The usual case, "a situation, then the debrief straight after", from the learner's
    screen: every tap counted (the text fields apart), typing at a human pace."""
    login(page, TUTOR)
    learner_url = open_first_learner(page)
    taps: list[str] = []
    fields: list[str] = []

    def tap(locator, what: str) -> None:
        locator.tap()
        taps.append(what)

    def type_in(label: str, text: str) -> None:
        field = page.get_by_label(label, exact=True)
        field.tap()
        field.press_sequentially(text, delay=200)  # about 5 characters a second
        fields.append(label)

    started = time.monotonic()
    tap(page.get_by_role("link", name="Nouvelle mise en situation"), "new situation")
    page.wait_for_url("**/situation")
    toggle = page.locator("#competence_ids label.toggle").first
    code = toggle.locator("strong").inner_text().strip()
    tap(toggle, "competence")
    type_in("Intention pédagogique annoncée", "Aide au repas")
    type_in("Observations du·de la tuteur·rice", "Installation sûre")
    type_in("Votre code PIN, pour signer maintenant", PIN)
    tap(page.get_by_role("button", name="Enregistrer et signer"), "save and sign")

    # straight on to its reflexive sequence, the situation chosen
    page.wait_for_url("**/reflexion?saved=situation")
    page.get_by_text("Mise en situation enregistrée et signée").wait_for()
    assert page.locator("#situation_ids input:checked").count() >= 1
    type_in("Ce qui a été appris", "Vérifier la texture")
    group = page.locator("fieldset.level").filter(
        has=page.locator("legend", has_text=re.compile(rf"^{re.escape(code)} "))
    )
    tap(group.locator("label.toggle").last, "level")
    type_in("Votre code PIN, pour signer maintenant", PIN)
    tap(page.get_by_role("button", name="Enregistrer et signer"), "save and sign")

    page.wait_for_url(learner_url + "?saved=reflection")
    page.get_by_text("Séquence réflexive enregistrée et signée.").wait_for()
    elapsed = time.monotonic() - started
    assert_axe_clean(page)
    print(
        f"tablet: {len(taps)} taps ({', '.join(taps)}), {len(fields)} text fields, {elapsed:.1f} s"
    )
    assert len(taps) <= 8
    assert elapsed <= 30
    # both are signed by the tutor
    for kind in ("Séquence réflexive", "Mise en situation"):
        page.goto(learner_url)
        page.goto(page.locator("a.card").filter(has_text=kind).first.get_attribute("href"))
        assert page.get_by_text("Tuteur·rice :").count() == 1
        assert page.get_by_text("Pas encore signée.").count() == 0


def queued(page) -> int:
    """The entries waiting on the tablet, all people together."""
    return page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.endsWith(':queue'))"
        ".reduce((n, k) => n + JSON.parse(localStorage.getItem(k)).length, 0)"
    )


def test_entry_made_offline_is_kept_and_sent_once_when_back_online(page):
    login(page, TUTOR)
    learner_url = open_first_learner(page)
    page.get_by_role("link", name="Nouvelle mise en situation").tap()
    page.wait_for_url("**/situation")
    page.locator("#competence_ids label.toggle").first.tap()
    page.get_by_label("Observations du·de la tuteur·rice").fill("Saisie sans réseau")
    page.get_by_label("Votre code PIN, pour signer maintenant").fill(PIN)

    page.context.set_offline(True)
    page.get_by_role("button", name="Enregistrer et signer").tap()
    status = page.locator("[data-sync-status]").first
    status.filter(has_text="en attente d'envoi").wait_for()
    assert status.get_attribute("data-state") == "waiting"
    assert queued(page) == 1
    # her PIN is never kept on the tablet
    assert PIN not in page.evaluate("() => JSON.stringify(Object.assign({}, localStorage))")
    assert_axe_clean(page)
    page.get_by_role("button", name="Enregistrer et signer").tap()  # a second tap offline
    assert queued(page) == 1

    page.context.set_offline(False)
    status.filter(has_text="enregistrée sur le serveur, sans signature").wait_for()
    assert queued(page) == 0
    status.get_by_role("link", name="La signer").tap()  # the entry's page, to sign it
    page.wait_for_url(re.compile(r"/sequences/[^/]+"))
    assert page.get_by_text("Saisie sans réseau").count() == 1
    page.get_by_label("Votre code PIN ou mot de passe").fill(PIN)
    page.get_by_role("button", name="Signer", exact=True).tap()
    page.get_by_text("Séquence signée.").wait_for()
    page.goto(learner_url)
    assert page.locator("a.card").filter(has_text="Mise en situation").count() >= 1


def test_on_a_shared_tablet_nothing_of_one_tutor_reaches_the_next(page):
    login(page, TUTOR)
    open_first_learner(page)
    page.get_by_role("link", name="Nouvelle mise en situation").tap()
    page.wait_for_url("**/situation")
    page.locator("#competence_ids label.toggle").first.tap()
    page.get_by_label("Observations du·de la tuteur·rice").fill("Note du premier tuteur")
    page.context.set_offline(True)
    page.get_by_role("button", name="Enregistrer sans signer").tap()
    page.locator("[data-sync-status]").first.filter(has_text="en attente d'envoi").wait_for()
    page.get_by_label("Intention pédagogique annoncée").fill("Brouillon en cours")
    page.route("**/tablette/**", lambda route: route.abort())  # still no network for entries
    page.context.set_offline(False)

    warned: list[str] = []
    page.once("dialog", lambda dialog: (warned.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Se déconnecter").tap()
    page.wait_for_url("**/connexion**")
    assert warned and "attend encore le réseau" in warned[0]
    page.unroute("**/tablette/**")

    # another tutor on the same tablet: nothing of the first is shown, nor sent as hers
    login(page, OTHER_TUTOR)
    page.goto(page.url)
    assert "Note du premier tuteur" not in page.content()
    assert "Brouillon en cours" not in page.evaluate(
        "() => JSON.stringify(Object.assign({}, localStorage))"
    )  # the first tutor's draft went with her
    assert queued(page) == 1  # hers, kept under her name, untouched
    logout(page)

    # back as the first tutor, online: her entry leaves once
    login(page, TUTOR)
    page.wait_for_function(
        "() => Object.keys(localStorage).filter(k => k.endsWith(':queue'))"
        ".every(k => JSON.parse(localStorage.getItem(k)).length === 0)"
    )
    open_first_learner(page)
    page.goto(
        page.locator("a.card").filter(has_text="Mise en situation").first.get_attribute("href")
    )
    assert page.get_by_text("Note du premier tuteur").count() == 1


def test_the_tablet_opens_offline_and_sends_what_was_typed(page):
    login(page, TUTOR)
    open_first_learner(page)
    page.goto(page.url.rsplit("/protocoles/", 1)[0] + "/")  # "Mes apprenant·es" warms the cache
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    situation_url = page.locator("a[data-tablet-learner]").filter(has_not_text="incomplet").first
    situation_url = situation_url.get_attribute("href") + "/situation"
    page.wait_for_function(
        f"""async () => !!(await (await caches.open("afest-tablet")).match("{situation_url}"))"""
    )

    page.context.set_offline(True)
    page.goto(situation_url)  # from the tablet's own cache: the form opens
    page.get_by_role("heading", name=re.compile("Mise en situation de")).wait_for()
    page.locator("#competence_ids label.toggle").first.tap()
    page.get_by_label("Observations du·de la tuteur·rice").fill("Sans réseau, page rouverte")
    page.get_by_role("button", name="Enregistrer sans signer").tap()
    page.locator("[data-sync-status]").first.filter(has_text="en attente d'envoi").wait_for()
    assert queued(page) == 1

    page.context.set_offline(False)
    page.locator("[data-sync-status]").first.filter(
        has_text="enregistrée sur le serveur"
    ).wait_for()
    assert queued(page) == 0
    page.locator("[data-sync-status] a").first.tap()
    page.wait_for_url(re.compile(r"/sequences/[^/]+"))
    assert page.get_by_text("Sans réseau, page rouverte").count() == 1
    logout(page)
    assert page.evaluate("async () => (await caches.keys()).includes('afest-tablet')") is False


def test_an_entry_refused_once_sent_comes_back_with_its_reason(page):
    login(page, TUTOR)
    open_first_learner(page)
    page.get_by_role("link", name="Nouvelle mise en situation").tap()
    page.wait_for_url("**/situation")
    situation_url = page.url
    page.locator("#competence_ids label.toggle").first.tap()
    later = (date.today() + timedelta(days=2)).strftime("%d/%m/%Y")
    page.get_by_label("Jour").fill(later)  # the server refuses a day to come
    page.get_by_label("Observations du·de la tuteur·rice").fill("Saisie à corriger")
    page.context.set_offline(True)
    page.get_by_role("button", name="Enregistrer sans signer").tap()
    page.locator("[data-sync-status]").first.filter(has_text="en attente d'envoi").wait_for()

    page.context.set_offline(False)
    status = page.locator("[data-sync-status]").first
    status.filter(has_text="La date est dans le futur.").wait_for()
    assert status.get_attribute("data-state") == "error"
    assert queued(page) == 0
    page.goto(situation_url)  # back on its form, as typed, with the reason
    page.locator("[data-sync-status]").first.filter(
        has_text="La date est dans le futur."
    ).wait_for()
    assert (
        page.get_by_label("Observations du·de la tuteur·rice").input_value() == "Saisie à corriger"
    )
    assert page.get_by_label("Jour").input_value() == later
