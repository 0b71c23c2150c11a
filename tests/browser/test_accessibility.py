"""Every page of the authorization table, on a phone (390×844) and on a tablet (810×1080):
axe finds no violation, and a table wider than the screen scrolls in a region the keyboard
reaches and screen readers name; the pages with tables (homes, dashboards, lists, a
protocol, its bilan) for each role that reads them, the others for one. On a phone, the
homes, a protocol, its draft's form and the dashboards: buttons, the top bar's links, form
fields and the labels of radios and check boxes are targets of at least 44 px."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from afest import create_app
from tests.authz import ANON, OBJECTS, ROLE_EMAILS, ROUTES
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


def _urls(tmp_path_factory, pages) -> dict[tuple[str, str], str]:
    """(who, endpoint) → the page's address, with objects of the live server's database
    the person may see (found as the authorization table finds them)."""
    path = next(tmp_path_factory.getbasetemp().glob("live*/afest.sqlite"))
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "ENV": "testing"})
    engine = sa.create_engine(f"sqlite:///{path}")
    found = {}
    with Session(engine) as session, app.test_request_context():
        from flask import url_for

        for who, endpoint in pages:
            route = ROUTES[endpoint]
            assert route.expected[who] == 200, (who, endpoint)
            values = dict(route.params)
            if route.obj:
                ids = OBJECTS[route.obj].in_scope(session, who)
                values.update(_object_values(app, endpoint, values, ids))
            found[who, endpoint] = url_for(endpoint, **values)
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def urls(live_server, tmp_path_factory):
    return _urls(tmp_path_factory, TABLE_PAGES)


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


def _check(page, url: str) -> bool:
    """Open `url`; unless it is no page (a download, a fragment for htmx, a script): every
    scrolling region focusable and named, and no axe violation. Whether it was a page."""
    asked = page.request.get(url)  # the session's cookies: what the browser would receive
    assert asked.status == 200, url
    if not asked.headers.get("content-type", "").startswith("text/html"):
        return False
    assert page.goto(url).status == 200, url
    if not page.locator("main").count():
        return False
    for region in page.evaluate(SCROLLERS):
        assert region["tabindex"] == "0" and region["role"] == "region", (url, region)
        assert region["named"], (url, region)
    assert_axe_clean(page)
    return True


@pytest.mark.parametrize("who", sorted({who for who, _ in TABLE_PAGES}))
def test_table_pages_are_axe_clean_and_their_scrolling_tables_focusable(device, urls, who):
    login(device, ROLE_EMAILS[who])
    for (person, endpoint), url in urls.items():
        if person == who:
            assert _check(device, url), (endpoint, "is not a page")


# Every other GET page of the authorization table, for the first role that may open it;
# not the pages whose object the table makes by writing to the database (a file to import,
# a failed e-mail: the other browser tests share this database), nor downloads.
WRITING_KINDS = {"people_upload", "structures_upload", "rncp_upload", "mail"}
EVERY_PAGE = [
    (next(w for w, status in route.expected.items() if status == 200 and w != ANON), endpoint)
    for endpoint, route in sorted(ROUTES.items())
    if route.method == "GET"
    and endpoint != "static"
    and route.obj not in WRITING_KINDS
    and endpoint not in {e for _, e in TABLE_PAGES}
    and any(status == 200 and w != ANON for w, status in route.expected.items())
]


@pytest.fixture(scope="module")
def every_url(live_server, tmp_path_factory):
    return _urls(tmp_path_factory, EVERY_PAGE)


@pytest.mark.parametrize("who", sorted({who for who, _ in EVERY_PAGE}))
def test_every_page_is_axe_clean_on_a_phone_and_a_tablet(device, every_url, who):
    login(device, ROLE_EMAILS[who])
    for (person, _), url in every_url.items():
        if person == who:
            _check(device, url)


# (who, endpoint): the homes, a protocol, its draft's form (check boxes), the dashboards
TOUCH_PAGES = [
    *((who, "main.home") for who in ("manager", "tutor", "learner", "opco", "consultant")),
    ("manager", "protocols.show"),
    ("manager", "protocols.edit"),
    ("manager", "dashboards.structure"),
    ("opco", "dashboards.opco"),
    ("consultant", "dashboards.cohort"),
    ("tutor", "todo.reminders"),  # radios
    ("consultant", "vae.feasibility"),  # radios
    ("tutor", "tablet.situation"),
    ("tutor", "tablet.reflection"),
]

# The visible controls a finger aims at: buttons and links styled as buttons, the top bar's
# links, form fields, the labels of radios and check boxes. Links inside running text
# (paragraphs, table cells, list items) are exempt, as WCAG 2.5.8 exempts inline targets.
TARGETS = """() => {
  const visible = e => { const r = e.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && getComputedStyle(e).visibility !== 'hidden'; };
  const boxes = (selector, what) => [...document.querySelectorAll(selector)].filter(visible)
    .map(e => { const r = e.getBoundingClientRect();
      return {what, text: (e.innerText || e.name || e.id || '').trim().slice(0, 40),
              width: r.width, height: r.height}; });
  const checkLabels = [...document.querySelectorAll('input[type=checkbox], input[type=radio]')]
    .flatMap(i => [...i.labels]);
  checkLabels.forEach(l => l.setAttribute('data-check-label', ''));
  return [
    ...boxes('button, .button, input[type=submit], summary', 'button'),
    ...boxes('.topbar a, .footer a, .pager a', 'link'),
    ...boxes('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select', 'field'),
    ...boxes('[data-check-label]', 'label'),
  ];
}"""
TAP = 44


@pytest.fixture()
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server,
        viewport=SIZES["phone"],
        has_touch=True,
        is_mobile=True,
        locale="fr-FR",
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def touch_urls(live_server, tmp_path_factory):
    return _urls(tmp_path_factory, TOUCH_PAGES)


@pytest.mark.parametrize("who", sorted({who for who, _ in TOUCH_PAGES}))
def test_buttons_fields_and_check_labels_are_44_px_targets_on_a_phone(phone, touch_urls, who):
    login(phone, ROLE_EMAILS[who])
    for (person, endpoint), url in touch_urls.items():
        if person != who:
            continue
        assert phone.goto(url).status == 200, (endpoint, url)
        targets = phone.evaluate(TARGETS)
        assert targets, url  # the page has controls: the measure measured something
        small = [
            t
            for t in targets
            if t["height"] < TAP - 0.5 or (t["what"] == "button" and t["width"] < TAP - 0.5)
        ]
        assert not small, f"targets under {TAP} px on {url}: {small}"
