"""The manager plans a sequence on a draft, in a real browser: the planning form's labels
lead to its own fields (not to the draft's, which has a title too), the browser lets the
form go, and the sequence is listed under "Séquences prévues"."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

MANAGER = "direction@azur-aide.demo"


@pytest.fixture(scope="module")
def draft_url(live_server, tmp_path_factory) -> str:
    from tests.browser.test_accessibility import _urls

    return _urls(tmp_path_factory, [("manager", "protocols.edit")])["manager", "protocols.edit"]


def test_the_planning_form_fills_and_sends_its_own_fields(page, draft_url):
    login(page, MANAGER)
    page.goto(draft_url)
    title = page.get_by_label("Intitulé", exact=True)
    # the field the label leads to is the planning form's, not the draft's own title
    assert title.evaluate("e => e.form.action.endsWith('/planning')")
    page.get_by_label("Type de séquence").select_option("situation")
    start = page.get_by_label("Début prévu").input_value()  # within the draft's dates
    page.get_by_label("Date prévue").fill(start)
    title.fill("Aide au repas du soir")
    page.get_by_label("Durée prévue (minutes)").fill("90")
    page.get_by_role("button", name="Ajouter au planning").tap()
    page.wait_for_url("**/modifier#planning")
    planned = page.locator("#planning + ol")
    assert "Aide au repas du soir" in planned.inner_text()
