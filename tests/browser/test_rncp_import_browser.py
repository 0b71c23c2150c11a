"""The import from the RNCP in a real browser: the administrator sends the XML export, finds
a fiche by its title, previews and imports it, then sends the revised export and reads the
differences block by block before importing version 2; every page passes axe. The fiche is
renumbered so that the other browser tests keep the demo's DEAS as it is."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_axe_clean, login
from tests.referentials.rncp_files import XML_2026, XML_2027, renumbered

pytestmark = pytest.mark.browser


def _send(page, path) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Référentiels").click()
    page.get_by_role("link", name="Importer depuis le RNCP").click()
    page.get_by_label("Export de France compétences").set_input_files(str(path))
    page.get_by_role("button", name="Voir les fiches du fichier").click()


def test_the_admin_imports_a_fiche_then_its_revision(page, tmp_path):
    first = tmp_path / XML_2026.name
    first.write_bytes(renumbered(XML_2026, "RNCP35830", "RNCP98830"))
    revised = tmp_path / XML_2027.name
    revised.write_bytes(renumbered(XML_2027, "RNCP35830", "RNCP98830"))
    login(page, "admin@afest.demo")
    _send(page, first)
    page.get_by_label("Rechercher").fill("aide-soignant")
    page.get_by_role("button", name="Rechercher").click()
    assert_axe_clean(page)
    page.get_by_label(re.compile("RNCP98830")).check()
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.get_by_text("Nouveau référentiel").wait_for()
    assert_axe_clean(page)
    page.get_by_role("button", name="Confirmer l'import").click()
    page.get_by_text("1 référentiel(s) importé(s) : RNCP98830 v1.").wait_for()

    _send(page, revised)
    page.get_by_label(re.compile("RNCP98830")).check()
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.get_by_text("Révision : version 2").wait_for()
    assert "Contribuer à la démarche qualité" in page.get_by_role("main").inner_text()
    assert_axe_clean(page)
    page.get_by_role("button", name="Confirmer l'import").click()
    page.get_by_text("1 référentiel(s) importé(s) : RNCP98830 v2.").wait_for()
    assert_axe_clean(page)
