"""Every GET page of the authorization table, opened by each role that may open it: no id
twice on a page, and every <label for> names an id of the page. A label pointing at another
field's id sends the browser's "fill in this field" bubble to the wrong form."""

from __future__ import annotations

import html.parser
from collections import Counter

import pytest

from tests.authz import ANON, OBJECTS, ROLE_EMAILS, ROUTES
from tests.authz.test_routes import _object_values, _url

PAGES = [
    (endpoint, who)
    for endpoint, route in sorted(ROUTES.items())
    if route.method == "GET" and endpoint != "static"
    for who, status in route.expected.items()
    if status == 200 and who != ANON
]


class IdParser(html.parser.HTMLParser):
    """The id attributes of a page, and the targets of its labels."""

    def __init__(self):
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.label_targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") is not None:
            self.ids[a["id"]] += 1
        if tag == "label" and a.get("for") is not None:
            self.label_targets.append(a["for"])

    handle_startendtag = handle_starttag


def id_problems(page: str) -> list[str]:
    """What is wrong with a page's ids: each id used twice, each label pointing nowhere."""
    parser = IdParser()
    parser.feed(page)
    twice = [f"id={i!r} ×{n}" for i, n in sorted(parser.ids.items()) if n > 1]
    nowhere = [f"label for={t!r}" for t in parser.label_targets if t not in parser.ids]
    return twice + nowhere


def test_the_check_sees_a_duplicate_and_a_lost_label():
    page = '<input id="title"><label for="title">A</label><input id="title"><label for="x">'
    assert id_problems(page) == ["id='title' ×2", "label for='x'"]
    assert id_problems('<label for="a">A</label><input id="a"><p id="b"></p>') == []


@pytest.mark.parametrize(("endpoint", "who"), PAGES)
def test_ids_are_unique_and_labels_find_their_field(app, session, login_as, endpoint, who):
    route = ROUTES[endpoint]
    values = dict(route.params)
    if route.obj:
        ids = OBJECTS[route.obj].in_scope(session, who)
        values.update(_object_values(app, endpoint, values, ids))
    response = login_as(ROLE_EMAILS[who]).get(_url(app, endpoint, values))
    assert response.status_code == 200, (endpoint, who, response.status_code)
    if response.mimetype != "text/html":
        pytest.skip("a download: no HTML")
    assert id_problems(response.get_data(as_text=True)) == [], (endpoint, who)


REFUSED = [
    (endpoint, who)
    for endpoint, route in sorted(ROUTES.items())
    if route.method == "POST"
    for who, status in route.expected.items()
    if status == 422 and who != ANON
]


@pytest.mark.parametrize(("endpoint", "who"), REFUSED)
def test_a_form_sent_back_with_its_errors_keeps_ids_unique(app, session, login_as, endpoint, who):
    """The same on a page sent back with its messages (a form refused, 422): the messages'
    ids (title-error) are the fields' ids, unique too."""
    route = ROUTES[endpoint]
    values = dict(route.params)
    if route.obj:
        ids = OBJECTS[route.obj].in_scope(session, who)
        values.update(_object_values(app, endpoint, values, ids))
    response = login_as(ROLE_EMAILS[who]).post(_url(app, endpoint, values), data=route.data)
    assert response.status_code == 422, (endpoint, who, response.status_code)
    if response.mimetype != "text/html":
        pytest.skip("not a page")
    assert id_problems(response.get_data(as_text=True)) == [], (endpoint, who)
