"""Photos on the tablet in a real browser: taken with the camera input on the situation form,
listed as chosen, sent with the entry, shown on the sequence's page; offline, the entry is
kept without them and the tutor is told how to attach them."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.browser.conftest import assert_axe_clean, login
from tests.browser.test_tablet_flow import PIN, TUTOR, open_first_learner, queued

pytestmark = pytest.mark.browser


def photo_file(tmp_path, name="IMG_2001.jpg"):
    image = Image.new("RGB", (1200, 900), (120, 160, 90))
    exif = image.getexif()
    exif.get_ifd(0x8825).update({1: "N", 2: (43.0, 17.0, 3.0)})
    path = tmp_path / name
    image.save(path, "JPEG", exif=exif)
    return path


def test_a_photo_taken_on_the_situation_form_is_saved_signed_and_shown(page, tmp_path):
    login(page, TUTOR)
    learner_url = open_first_learner(page)
    page.get_by_role("link", name="Nouvelle mise en situation").tap()
    page.wait_for_url("**/situation")
    page.locator("#competence_ids label.toggle").first.tap()
    camera = page.locator('input[type=file][capture="environment"]')
    assert camera.get_attribute("accept") == "image/*"
    camera.set_input_files(str(photo_file(tmp_path)))
    page.locator("[data-chosen-files] li").filter(has_text="IMG_2001.jpg").wait_for()
    assert_axe_clean(page)
    page.get_by_label("Observations du·de la tuteur·rice").fill("Photo du plateau repas")
    page.get_by_label("Votre code PIN, pour signer maintenant").fill(PIN)
    page.get_by_role("button", name="Enregistrer et signer").tap()
    page.wait_for_url("**/reflexion?saved=situation")

    page.goto(learner_url)  # the situation is among the recent entries
    page.locator("a.card").filter(has_text="Mise en situation").first.tap()
    page.wait_for_url(re.compile(r"/sequences/[^/]+$"))
    image = page.get_by_role("img", name="Photo jointe : IMG_2001.jpg")
    image.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) > 0
    assert_axe_clean(page)
    response = page.request.get(image.get_attribute("src"))
    assert response.status == 200
    kept = Image.open(io.BytesIO(response.body()))
    assert not kept.getexif().get_ifd(0x8825)  # its GPS position removed


def test_offline_the_entry_is_kept_without_its_photo_and_she_is_told(page, tmp_path):
    login(page, TUTOR)
    open_first_learner(page)
    page.get_by_role("link", name="Nouvelle mise en situation").tap()
    page.wait_for_url("**/situation")
    page.locator("#competence_ids label.toggle").first.tap()
    page.locator('input[type=file][capture="environment"]').set_input_files(
        str(photo_file(tmp_path, "hors-ligne.jpg"))
    )
    page.get_by_label("Observations du·de la tuteur·rice").fill("Saisie hors ligne avec photo")
    page.context.set_offline(True)
    try:
        page.get_by_role("button", name="Enregistrer sans signer").tap()
        status = page.locator("[data-sync-status]").first
        status.filter(has_text="en corrigeant la séquence").wait_for()
        assert queued(page) == 1
        kept = page.evaluate("() => JSON.stringify(Object.assign({}, localStorage))")
        assert "hors-ligne.jpg" not in kept and "Saisie hors ligne avec photo" in kept
    finally:
        page.context.set_offline(False)
    status.filter(has_text="enregistrée sur le serveur").wait_for()
    assert queued(page) == 0
