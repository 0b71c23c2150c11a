"""Every route × every role, and every object route × an object of another tenant."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlmodel import select

from afest.models import Role, RoleAssignment, User
from tests.authz import ANON, OBJECTS, ROLE_EMAILS, ROUTES

CASES = [(endpoint, who) for endpoint in sorted(ROUTES) for who in [*ROLE_EMAILS, ANON]]


@pytest.fixture()
def factories(make_protocol, make_structure, make_user):
    return SimpleNamespace(
        make_protocol=make_protocol, make_structure=make_structure, make_user=make_user
    )


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(ROUTES)
    stale = set(ROUTES) - endpoints
    assert not missing, f"routes missing from tests/authz ROUTES: {sorted(missing)}"
    assert not stale, f"ROUTES lists endpoints that no longer exist: {sorted(stale)}"


def test_every_state_changing_route_is_post_only(app):
    for rule in app.url_map.iter_rules():
        route = ROUTES[rule.endpoint]
        if route.method == "POST":
            assert rule.methods - {"OPTIONS"} == {"POST"}, rule


def _url(app, endpoint: str, values: dict[str, str]) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def _path_params(app, endpoint: str) -> set[str]:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return set(rule.arguments)


def _object_values(app, endpoint: str, fixed: dict[str, str], found) -> dict[str, str]:
    """The URL values an object kind gives: one public id for the one free parameter, or
    a mapping when the URL names two objects (a structure and one of its people)."""
    if isinstance(found, dict):
        return found
    return {next(iter(_path_params(app, endpoint) - set(fixed))): found}


def _call(app, client, endpoint: str, values: dict[str, str]):
    route = ROUTES[endpoint]
    url = _url(app, endpoint, values)
    if route.method == "POST":
        return client.post(url, data=route.data)
    return client.get(url)


@pytest.mark.parametrize(("endpoint", "who"), CASES)
def test_route_answers_each_role_as_the_table_says(app, session, login_as, endpoint, who):
    route = ROUTES[endpoint]
    values = dict(route.params)
    if route.obj:
        values.update(
            _object_values(app, endpoint, values, OBJECTS[route.obj].in_scope(session, who))
        )
    client = app.test_client() if who == ANON else login_as(ROLE_EMAILS[who])
    response = _call(app, client, endpoint, values)
    assert response.status_code == route.expected[who], (endpoint, who, response.status_code)


@pytest.mark.parametrize(
    ("endpoint", "who"),
    [(e, w) for e, w in CASES if ROUTES[e].obj and ROUTES[e].foreign and w != ANON],
)
def test_object_of_another_tenant_is_not_found(app, session, factories, login_as, endpoint, who):
    route = ROUTES[endpoint]
    foreign = OBJECTS[route.obj].foreign(session, factories)
    values = {**route.params, **_object_values(app, endpoint, route.params, foreign)}
    response = _call(app, login_as(ROLE_EMAILS[who]), endpoint, values)
    expected = route.foreign if isinstance(route.foreign, int) else route.foreign[who]
    assert response.status_code == expected, (endpoint, who, response.status_code)


def test_admin_route_on_unknown_user_is_not_found(login_as):
    client = login_as(Role.ADMIN)
    assert (
        client.post("/admin/comptes/nobody-like-this/actif", data={"active": "0"}).status_code
        == 404
    )


def test_navigation_shows_only_usable_links(login_as):
    manager_page = login_as(Role.MANAGER).get("/").get_data(as_text=True)
    tutor_page = login_as(Role.TUTOR).get("/").get_data(as_text=True)
    assert 'href="/protocoles/"' in manager_page
    assert 'href="/protocoles/"' not in tutor_page
    assert 'href="/admin/comptes"' not in manager_page
    assert 'href="/admin/comptes"' in login_as(Role.ADMIN).get("/").get_data(as_text=True)


def test_public_urls_carry_no_sequential_ids(login_as):
    page = login_as(Role.MANAGER).get("/protocoles/").get_data(as_text=True)
    # Every link to a protocol, not to the static "new protocol" form.
    ids = [i for i in re.findall(r'href="/protocoles/([^"/?]+)"', page) if i != "nouveau"]
    assert ids
    assert all(not i.isdigit() and len(i) >= 16 for i in ids)


def test_roles_are_scoped_to_organisations(session):
    tutor = session.exec(select(User).where(User.email == "tuteur@azur-aide.demo")).one()
    assignments = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == tutor.id))
    assert {(a.role, a.organisation_id is not None) for a in assignments} == {(Role.TUTOR, True)}
