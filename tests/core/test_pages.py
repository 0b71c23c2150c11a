"""Every page: security headers, no inline script or style, error pages in the layout,
lists loaded without N+1."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from afest import create_app
from afest.core.database import database
from afest.models import Role

INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script without src
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick=, onload=, ...
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"javascript:", re.I),
]


@pytest.mark.parametrize("role", list(Role))
def test_home_has_security_headers_and_no_inline_code(login_as, role):
    response = login_as(role).get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    body = response.get_data(as_text=True)
    for pattern in INLINE:
        assert not pattern.search(body), pattern.pattern


def test_not_found_and_server_error_pages_use_the_layout(app, client, login_as):
    missing = login_as(Role.MANAGER).get("/protocoles/does-not-exist")
    assert missing.status_code == 404
    assert "Page introuvable" in missing.get_data(as_text=True)
    assert 'class="topbar"' in missing.get_data(as_text=True)

    fresh = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "ENV": "testing"})

    @fresh.get("/__boom")  # a view that fails
    def boom():
        raise RuntimeError("boom")

    response = fresh.test_client().get("/__boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "rien n'a été enregistré" in body and 'class="topbar"' in body
    assert "Traceback" not in body and "RuntimeError" not in body


def test_method_not_allowed_is_a_page_not_a_crash(client):
    response = client.post("/")
    assert response.status_code == 405


@contextmanager
def count_queries(app):
    counter = {"n": 0}
    engine = database(app).engine

    def before(*_args, **_kwargs):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_manager_protocol_list_has_no_n_plus_one(app, login_as, make_protocol, session):
    from sqlmodel import select

    from afest.models import Organisation, Protocol, ProtocolTutor

    client = login_as(Role.MANAGER)
    client.get("/protocoles/")  # warm the session touch
    with count_queries(app) as few:
        assert client.get("/protocoles/").status_code == 200
    # Add protocols to the manager's structure: the query count must not grow.
    structure = session.exec(
        select(Organisation).where(Organisation.siret == "77568412300018")
    ).one()
    for _ in range(5):
        make_protocol(structure=structure)
    listed = session.exec(select(Protocol).where(Protocol.structure_id == structure.id)).all()
    assert len(listed) >= 12
    assert session.exec(select(ProtocolTutor)).first()
    with count_queries(app) as many:
        assert client.get("/protocoles/").status_code == 200
    assert many["n"] == few["n"]


def test_protocol_page_query_count_does_not_follow_sequences(app, login_as):
    client = login_as("direction@ehpad-01.demo")
    page = client.get("/protocoles/").get_data(as_text=True)
    ids = re.findall(r'href="/protocoles/([A-Za-z0-9_-]{16})"', page)
    counts = set()
    assert len(ids) >= 4
    for public_id in ids[:4]:
        with count_queries(app) as counter:
            assert client.get(f"/protocoles/{public_id}").status_code == 200
        counts.add(counter["n"])
    assert len(counts) == 1, counts
