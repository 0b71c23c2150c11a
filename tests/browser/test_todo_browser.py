"""The tutor's "À faire" in a real browser (810×1080, touch): a situation left without its
reflexive sequence past the legal window shows on her home as late (in words) and in the
count by "Accueil"; one tap opens the reflexive sequence form with that situation chosen;
once the sequence is saved and signed, the situation is gone from the list. axe finds no
violation on the pages visited."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from tests.browser.conftest import assert_axe_clean, login

pytestmark = pytest.mark.browser

TUTOR = "tuteur@azur-aide.demo"
PIN = "2468"


def late_situation(page) -> tuple[str, str]:
    """Log, from the tablet, a situation nine days ago (its window closed two days ago) on
    the tutor's first learner in progress; its day as the list says it, and its moment as
    the reflexive form shows it."""
    page.get_by_role("navigation").get_by_role("link", name="Mes apprenant·es").tap()
    page.wait_for_url("**/tablette/")
    page.locator("a.card").filter(has_not_text="incomplet").filter(
        has_not_text="En pause"
    ).first.tap()
    page.wait_for_url(re.compile(r"/tablette/protocoles/[^/]+$"))
    page.get_by_role("link", name="Nouvelle mise en situation").tap()
    page.wait_for_url("**/situation")
    when = datetime.now(ZoneInfo("Europe/Paris")) - timedelta(days=9)
    when = when.replace(hour=7, minute=15, second=0, microsecond=0)
    page.get_by_label("Jour").fill(when.strftime("%d/%m/%Y"))
    page.get_by_label("Heure").fill(when.strftime("%H:%M"))
    page.locator("#competence_ids label.toggle").first.tap()
    page.get_by_label("Observations du·de la tuteur·rice").fill("Situation restée sans analyse")
    page.get_by_role("button", name="Enregistrer sans signer").tap()
    page.wait_for_url(re.compile(r"/sequences/[^/]+\?saved=1"))
    page.get_by_label("Votre code PIN ou mot de passe").fill(PIN)
    page.get_by_role("button", name="Signer", exact=True).tap()
    page.get_by_text("Séquence signée.").wait_for()
    return format_date(when.date(), "long", locale="fr"), when.strftime("%d/%m/%Y %H:%M")


def todo_item(page, day: str):
    return page.locator("section.todo a.todo-item").filter(
        has_text=f"sur la mise en situation du {day}"
    )


def nav_count(page) -> int:
    badge = page.get_by_role("navigation").locator("a", has_text="Accueil").locator(".count")
    return int(badge.inner_text().split()[0]) if badge.count() else 0


def test_a_late_reflexive_sequence_is_one_tap_away_and_goes_once_signed(page):
    login(page, TUTOR)
    day, moment = late_situation(page)

    page.get_by_role("navigation").get_by_role("link", name=re.compile("^Accueil")).tap()
    page.wait_for_url(re.compile(r"/$"))
    item = todo_item(page, day)
    assert item.count() == 1
    assert "En retard" in item.inner_text()  # said in words, not only by its colour
    late = page.locator("section.todo h3", has_text="En retard")
    assert late.count() == 1
    count = nav_count(page)
    assert count == page.locator("section.todo a.todo-item").count() >= 1
    assert_axe_clean(page)

    item.tap()
    page.wait_for_url(re.compile(r"/tablette/protocoles/[^/]+/reflexion$"))
    assert_axe_clean(page)
    chosen = page.locator("#situation_ids label").filter(has_text=moment)
    assert chosen.locator("input").is_checked()
    page.get_by_label("Ce qui était attendu").fill("Réaliser le soin en sécurité")
    page.get_by_label("Ce qui a été appris").fill("Préparer le matériel avant d'entrer")
    page.get_by_label("Les mots de l'apprenant·e").fill("J'ai compris pourquoi")
    group = page.locator("fieldset.level").first
    group.locator("label.toggle").filter(has_not_text="Non travaillée").first.tap()
    page.get_by_role("button", name="Enregistrer sans signer").tap()
    page.wait_for_url(re.compile(r"/sequences/[^/]+\?saved=1"))
    page.get_by_label("Votre code PIN ou mot de passe").fill(PIN)
    page.get_by_role("button", name="Signer", exact=True).tap()
    page.get_by_text("Séquence signée.").wait_for()

    page.get_by_role("navigation").get_by_role("link", name=re.compile("^Accueil")).tap()
    page.wait_for_url(re.compile(r"/$"))
    assert todo_item(page, day).count() == 0
    assert nav_count(page) == page.locator("section.todo a.todo-item").count() < count
    assert_axe_clean(page)
