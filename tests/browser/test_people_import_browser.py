"""The import of people on a tablet, in a real browser: the manager sends a file from her
structure's people page, reads the problem of a row beside its line, sends the corrected
file and confirms; every page passes axe."""

from __future__ import annotations

import os
import re

import pytest

from tests.browser.conftest import assert_axe_clean, login

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("AFEST_SCREENSHOTS")  # a folder: keep a picture of each page


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_the_manager_imports_people_from_a_file(page, tmp_path):
    login(page, "direction@azur-aide.demo")
    page.get_by_role("navigation").get_by_role("link", name="Personnes").click()
    page.get_by_role("link", name="Importer des personnes").click()
    assert_axe_clean(page)
    _shot(page, "import")

    wrong = tmp_path / "personnes.csv"
    wrong.write_bytes(
        "Nom;E-mail;Rôle;Tuteur·rice de\r\n"
        "Salomé Petit;salome.petit@example.org;tutrice;apprenant6@azur-aide.demo\r\n"
        "Yanis Haddad;yanis.haddad;apprenant;\r\n".encode("cp1252")
    )
    page.get_by_label("Fichier des personnes").set_input_files(str(wrong))
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.get_by_text("1 ligne(s) à corriger").wait_for()
    row = page.get_by_role("row", name=re.compile("Yanis Haddad"))
    assert "Adresse e-mail invalide" in row.inner_text()
    assert page.get_by_role("button", name=re.compile("Confirmer")).count() == 0
    assert_axe_clean(page)
    _shot(page, "import_preview_errors")

    right = tmp_path / "personnes-corrige.csv"
    right.write_bytes(wrong.read_bytes().replace(b"yanis.haddad;", b"yanis.haddad@example.org;"))
    page.get_by_label("Fichier des personnes").set_input_files(str(right))
    page.get_by_role("button", name="Voir l'aperçu").click()
    page.get_by_text("Toutes les lignes sont valides").wait_for()
    assert (
        "protocole en brouillon"
        in page.get_by_role("row", name=re.compile("Salomé Petit")).inner_text()
    )
    assert_axe_clean(page)
    _shot(page, "import_preview")
    page.get_by_role("button", name="Confirmer l'import de 2 ligne(s)").click()
    page.get_by_text(re.compile("Import enregistré : 2 compte")).wait_for()
    page.get_by_role("link", name="Yanis Haddad").wait_for()
    assert_axe_clean(page)
    _shot(page, "roster_after_import")
