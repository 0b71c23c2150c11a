"""The UI never shows a control the user may not use.

For every GET page of the authorization table and every role that may open it, each internal
link on the page is followed and each POST form is submitted (empty) by that same role: none
may answer 403 or 404. A refused control would be one the page should not have shown.
"""

from __future__ import annotations

import re

import pytest

from tests.authz import ANON, OBJECTS, ROLE_EMAILS, ROUTES
from tests.authz.test_routes import _object_values, _url
from tests.load_forms import forms_of

LINK = re.compile(r'<a\b[^>]*\bhref="(/[^"#]*)"', re.I)
ROLES = list(ROLE_EMAILS)


def _shape(url: str) -> str:
    return re.sub(r"/[A-Za-z0-9_-]{16}(?=/|$|\?)", "/<id>", url.split("?")[0])


@pytest.mark.parametrize("who", ROLES)
def test_every_link_and_form_shown_works_for_whoever_sees_it(app, session, login_as, who):
    client = login_as(ROLE_EMAILS[who])
    seen: set[str] = set()
    refused: list[str] = []
    for endpoint, route in sorted(ROUTES.items()):
        if route.method != "GET" or endpoint == "static" or route.expected.get(who) != 200:
            continue
        values = dict(route.params)
        if route.obj:
            found = OBJECTS[route.obj].in_scope(session, who)
            values.update(_object_values(app, endpoint, values, found))
        page_url = _url(app, endpoint, values)
        response = client.get(page_url)
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        for href in LINK.findall(page):
            if href.startswith("/static/") or _shape(href) in seen:
                continue
            seen.add(_shape(href))
            status = client.get(href).status_code
            if status in (403, 404):
                refused.append(f"{page_url} links to {href}: {status}")
        for form in forms_of(page):
            action = form["action"] or page_url
            if action in ("/deconnexion",) or ("POST " + _shape(action)) in seen:
                continue
            seen.add("POST " + _shape(action))
            status = client.post(action, data={}).status_code
            if status in (403, 404):
                refused.append(f"{page_url} has a form to {action}: {status}")
    assert not refused, "\n".join(refused)


def test_anonymous_pages_show_no_member_controls(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert "/deconnexion" not in page and "/admin" not in page
    assert ANON  # the table lists anonymous visitors too
