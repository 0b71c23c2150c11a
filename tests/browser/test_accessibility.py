"""The pages with tables (homes, dashboards, lists, a protocol, its bilan), on a phone
(390×844) and on a tablet (810×1080): axe finds no violation, and a table wider than the
screen scrolls in a region the keyboard reaches and screen readers name."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from afest import create_app
from tests.authz import OBJECTS, ROLE_EMAILS, ROUTES
from tests.authz.test_routes import _object_values
from tests.browser.conftest import assert_axe_clean, login

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 810, "height": 1080}}

# (who, endpoint): each page with a table, opened by someone who may open it
TABLE_PAGES = [
    ("manager", "main.home"),
    ("manager", "protocols.index"),
    ("manager", "protocols.show"),
    ("manager", "evaluations.show"),
    ("manager", "evaluations.bilan"),
    ("manager", "sequences.verify"),
    ("manager", "people.roster"),
    ("manager", "dashboards.structure"),
    ("opco", "main.home"),
    ("opco", "dashboards.opco"),
    ("opco", "dashboards.structure"),
    ("consultant", "dashboards.cohort"),
    ("consultant", "vae.show"),
    ("admin", "admin.accounts"),
    ("admin", "mail.index"),
    ("admin", "organisations.structures"),
    ("admin", "organisations.bodies"),
    ("admin", "organisations.cohorts"),
]


@pytest.fixture(scope="module")
def urls(live_server, tmp_path_factory):
    """(who, endpoint) → the page's address, with objects of the live server's database
    the person may see (found as the authorization table finds them)."""
    path = next(tmp_path_factory.getbasetemp().glob("live*/afest.sqlite"))
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "ENV": "testing"})
    engine = sa.create_engine(f"sqlite:///{path}")
    found = {}
    with Session(engine) as session, app.test_request_context():
        from flask import url_for

        for who, endpoint in TABLE_PAGES:
            route = ROUTES[endpoint]
            assert route.expected[who] == 200, (who, endpoint)
            values = dict(route.params)
            if route.obj:
                ids = OBJECTS[route.obj].in_scope(session, who)
                values.update(_object_values(app, endpoint, values, ids))
            found[who, endpoint] = url_for(endpoint, **values)
    engine.dispose()
    return found


@pytest.fixture(params=list(SIZES))
def device(browser, live_server, request):
    context = browser.new_context(
        base_url=live_server,
        viewport=SIZES[request.param],
        has_touch=True,
        is_mobile=request.param == "phone",
        locale="fr-FR",
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"JS error: {exc}"))
    yield tab
    context.close()
    assert not errors, errors


SCROLLERS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.scrollWidth > e.clientWidth + 1
    && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
  .map(e => ({tag: e.tagName, tabindex: e.getAttribute('tabindex'), role: e.getAttribute('role'),
              named: !!(e.getAttribute('aria-label') || e.getAttribute('aria-labelledby'))}))"""


@pytest.mark.parametrize("who", sorted({who for who, _ in TABLE_PAGES}))
def test_table_pages_are_axe_clean_and_their_scrolling_tables_focusable(device, urls, who):
    login(device, ROLE_EMAILS[who])
    for (person, endpoint), url in urls.items():
        if person != who:
            continue
        response = device.goto(url)
        assert response.status == 200, (endpoint, url)
        for region in device.evaluate(SCROLLERS):
            assert region["tabindex"] == "0" and region["role"] == "region", (url, region)
            assert region["named"], (url, region)
        assert_axe_clean(device)
