"""The OPCO dashboard's protocols at risk: her summary's structures (afest.todo), listed on
her dashboard though she asked for no summary, named from SMALL_CELL_K learners."""

from __future__ import annotations

from afest.dashboards import risk
from afest.models import utcnow
from afest.todo.items import Item, Kind
from tests.dashboards.test_pages import cohort_url
from tests.todo.scene import travel
from tests.todo.test_opco_summary import MONDAY, K, items_at, scene


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


def test_her_dashboard_lists_her_structures_at_risk_without_her_asking(
    app, session, make_protocol, make_structure, make_user, login_as
):
    adviser, large, small = scene(app, session, make_protocol, make_structure, make_user)
    with travel(MONDAY), app.test_request_context():
        found = risk.of_adviser(session, adviser.id, now=utcnow(), k=K)
    assert [i.facts for i in found.named] == [
        {"structure": "EHPAD Les Tilleuls", "failing": 1, "near": 1}
    ]
    assert found.unnamed == 1
    with travel(MONDAY):
        client = login_as(adviser.email)
        page = client.get("/tableaux/opco").get_data(as_text=True)
        fragment = client.get("/tableaux/opco/a-risque", headers={"HX-Request": "true"})
        alone = client.get("/tableaux/opco/a-risque").get_data(as_text=True)
    # the dashboard asks for the list once shown, and links to it for a browser without script
    asked = page[page.index('aria-labelledby="h-risk"') : page.index('id="h-risk"')]
    asked += _section(page, "h-risk")
    assert 'hx-get="/tableaux/opco/a-risque"' in asked and 'href="/tableaux/opco/a-risque"' in asked
    assert "risk-caption" not in page
    listed = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in listed and "<h1" not in listed
    assert "<h1" in alone and _section(alone, "h-risk") == _section(listed, "h-risk")
    assert "EHPAD Les Tilleuls" in listed and f"/tableaux/structures/{large.public_id}" in listed
    assert "SAAD Petit" not in listed and small.public_id not in listed
    assert "1 structure de moins de 3 apprenant·es a des protocoles à risque" in listed
    assert items_at(app, session, adviser) == []  # nothing waits for her all the same


def test_a_cohort_has_no_such_list(session, login_as):
    page = login_as("consultant@aract-paca.demo").get(cohort_url(session)).get_data(as_text=True)
    assert 'id="h-risk"' not in page and 'id="h-trend"' in page


def test_the_structures_with_the_most_protocols_failing_come_first(monkeypatch):
    def item(name, failing, near):
        facts = {"structure": name, "failing": failing, "near": near}
        return Item(f"s:{name}", Kind.STRUCTURE_AT_RISK, 1, "dashboards.structure", facts=facts)

    found = [item("B", 1, 4), item("A", 3, 0), item("C", 1, 5)]
    small = Item("s:small", Kind.STRUCTURE_AT_RISK, 1, "dashboards.opco", {}, facts={"small": 4})
    monkeypatch.setattr(risk.build, "structures_at_risk", lambda *a, **kw: [*found, small])
    listed = risk.of_adviser(None, 1, now=utcnow(), k=K)
    assert [i.facts["structure"] for i in listed.named] == ["A", "C", "B"]
    assert listed.unnamed == 4 and listed
    monkeypatch.setattr(risk.build, "structures_at_risk", lambda *a, **kw: [])
    assert not risk.of_adviser(None, 1, now=utcnow(), k=K)
