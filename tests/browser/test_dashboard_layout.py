"""The dashboards read at a glance (issue 19): on a 1280×800 screen the filters hold on one
line and the key figures are all in the first screen, the monthly trend is an SVG chart
followed by its table, the structure table fits without scrolling sideways; on a phone
(390×844) no page is wider than the screen. axe finds no violation at either size."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_axe_clean, login

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
OPCO = "conseil@opco-sante.demo"  # funds the ten structures of #CARE-SKILLS
CONSULTANT = "consultant@aract-paca.demo"
KEY_FIGURES = [
    "Apprenant·es",
    "Protocoles en cours",
    "4 conditions légales remplies",
    "Heures réalisées",
    "Parcours VAE",
]


def _cohort(page) -> str:
    page.goto("/")
    return page.locator("a[href*='/tableaux/cohortes/']").first.get_attribute("href")


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box, selector
    return box


def _first_screen(page, path: str) -> None:
    page.set_viewport_size(DESKTOP)
    assert page.goto(path).status == 200
    tiles = page.locator(".kpis > .kpi")
    assert tiles.locator("dt").all_inner_texts() == KEY_FIGURES
    for i in range(tiles.count()):
        box = tiles.nth(i).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= DESKTOP["height"], (path, i, box)
    # the filters on one line: every field and both buttons side by side
    fields = [_box(page, s) for s in ("#dept", "#ref", "#du", "#au", ".filter-actions button")]
    tops = [b["y"] for b in fields]
    assert max(tops) - min(tops) < 8, tops
    assert all(a["x"] + a["width"] <= b["x"] for a, b in zip(fields, fields[1:], strict=False))
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]


@pytest.mark.parametrize("who", ["opco", "consultant"])
def test_at_1280_the_key_figures_are_in_the_first_screen(page, who):
    login(page, OPCO if who == "opco" else CONSULTANT)
    path = "/tableaux/opco" if who == "opco" else _cohort(page)
    _first_screen(page, path)
    figures = page.locator(".kpis").inner_text()
    assert "masqué" not in figures  # the demo's totals are large enough to show
    # the trend: an image named by its title, its figures in the table right after it
    chart = page.locator("#h-trend ~ figure svg[role=img]")
    assert chart.count() == 1
    assert "par mois de début" in chart.locator("title").text_content()
    assert page.get_by_role("img", name="par mois de début").count() == 1
    assert page.locator("#t-trend tbody tr").count() >= 2
    # the structure table fits: its region does not scroll sideways
    wrap = page.locator("#t-structures").locator("xpath=..")
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    if who == "opco":  # asked for once the page is shown
        page.locator("#h-risk ~ .table-wrap tbody tr").first.wait_for()
        assert page.locator("section.risk[aria-busy]").count() == 0
    assert_axe_clean(page)


def test_a_hidden_month_is_drawn_hatched_and_says_masque(page):
    """Uniformation's adviser funds one structure of seven learners: her months are small
    cells, hatched in the chart and "masqué" in its table, no bar drawn for them."""
    login(page, "conseil@uniformation.demo")
    _first_screen(page, "/tableaux/opco")
    assert page.locator(".trend rect.masked").count() >= 2
    assert page.locator(".trend rect.bar-count").count() == 0
    cells = page.locator("#t-trend tbody td").all_inner_texts()
    assert cells and set(cells) == {"masqué"}
    assert_axe_clean(page)


def test_a_bad_month_is_told_beside_its_field_on_the_one_line(page):
    login(page, OPCO)
    page.set_viewport_size(DESKTOP)
    assert page.goto("/tableaux/opco?du=2026-05&au=2026-01").status == 422
    error = page.locator("#au-error")
    assert "précède son début" in error.inner_text()
    assert page.locator("#au").get_attribute("aria-describedby") == "au-error"
    au, message = _box(page, "#au"), error.bounding_box()
    assert abs(message["x"] - au["x"]) < 60 and 0 <= message["y"] - (au["y"] + au["height"]) < 30
    assert_axe_clean(page)


@pytest.mark.parametrize("who", ["opco", "consultant"])
def test_on_a_phone_the_dashboard_stays_within_the_screen(page, who):
    login(page, OPCO if who == "opco" else CONSULTANT)
    path = "/tableaux/opco" if who == "opco" else _cohort(page)
    page.set_viewport_size(PHONE)
    assert page.goto(path).status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tiles = page.locator(".kpis > .kpi")
    for i in range(tiles.count()):
        box = tiles.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (i, box)
    chart = _box(page, ".trend svg")
    assert chart["width"] <= PHONE["width"]
    # its text keeps a readable size at this width
    size = page.locator(".trend text.month").first.evaluate("e => e.getBoundingClientRect().height")
    assert size >= 11
    assert_axe_clean(page)


def test_new_filters_keep_the_structure_search_and_order(page):
    login(page, OPCO)
    page.set_viewport_size(DESKTOP)
    page.goto("/tableaux/opco?q=EHPAD&tri=heures&ordre=desc&page=2")
    page.locator("#dept").select_option("13")
    page.get_by_role("button", name="Appliquer").click()
    page.wait_for_url("**dept=13**")
    asked = page.url.split("?", 1)[1]
    assert {"q=EHPAD", "tri=heures", "ordre=desc", "dept=13"} <= set(asked.split("&"))
    assert "page=" not in asked
