"""Cursor pagination (complete, stable, in order, bounded), filters, problem details for every
error, and the rate limit per token."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from afest import create_app
from afest.core.database import database
from afest.core.extensions import limiter
from afest.models import Protocol
from tests.api.conftest import OPCO_SANTE, UNIFORMATION, Api, organisation


def _cursor(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def test_pages_list_every_protocol_once_in_order(session, api_as):
    api = api_as(OPCO_SANTE)
    whole = api.get("/api/v1/protocols?limit=200").json
    assert whole["next"] is None
    paged = api.all("/api/v1/protocols?limit=7")
    assert [p["id"] for p in paged] == [p["id"] for p in whole["items"]]
    assert len(paged) == len({p["id"] for p in paged}) > 7
    keys = [(p["created_at"], p["id"]) for p in paged]
    assert keys == sorted(keys)


def test_a_new_protocol_does_not_shift_the_pages(session, api_as, make_structure, make_protocol):
    api = api_as(UNIFORMATION)
    first = api.get("/api/v1/protocols?limit=3").json
    make_protocol(structure=make_structure(opco=organisation(session, code=UNIFORMATION)))
    rest = api.all(first["next"])
    ids = [p["id"] for p in first["items"] + rest]
    assert len(ids) == len(set(ids))
    assert set(ids) == {p["id"] for p in api.all("/api/v1/protocols?limit=200")}


def test_filters_by_status_and_update(session, api_as):
    api = api_as(OPCO_SANTE)
    done = api.all("/api/v1/protocols?status=completed&limit=200")
    assert done and {p["status"] for p in done} == {"completed"}
    org = organisation(session, code=OPCO_SANTE)
    completed = session.exec(
        select(Protocol).where(Protocol.funder_id == org.id, Protocol.status == "completed")
    ).all()
    assert len(done) == len(completed)
    latest = max(p.updated_at for p in completed).astimezone(UTC)
    since = (latest - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    recent = api.get("/api/v1/protocols", query_string={"updated_since": since, "limit": 200}).json
    assert recent["items"] and all(
        datetime.fromisoformat(p["updated_at"]) >= latest - timedelta(seconds=1)
        for p in recent["items"]
    )
    assert len(recent["items"]) < len(api.all("/api/v1/protocols?limit=200"))


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/protocols?limit=0", 400),
        ("/api/v1/protocols?limit=201", 400),
        ("/api/v1/protocols?limit=abc", 400),
        ("/api/v1/protocols?status=lost", 400),
        ("/api/v1/protocols?updated_since=2026-01-01T00:00:00", 400),  # no time zone
        ("/api/v1/protocols?cursor=bm9wZQ", 400),
        ("/api/v1/protocols?updated_since=0001-01-01T00:00:00%2B01:00", 400),  # not in UTC
        ("/api/v1/protocols?updated_since=9999-12-31T23:59:59-05:00", 400),
        (f"/api/v1/protocols?cursor={_cursor(['0001-01-01T00:00:00+01:00', 'x'])}", 400),
        (f"/api/v1/protocols?cursor={_cursor(['9999-12-31T23:59:59-05:00', 'x'])}", 400),
        (f"/api/v1/protocols?cursor={_cursor(['2026-01-01T00:00:00', 'x'])}", 400),  # naive
        (f"/api/v1/protocols?cursor={_cursor(['2026-01-01T00:00:00+00:00', 5])}", 400),
        (f"/api/v1/protocols?cursor={_cursor({'a': 1})}", 400),
        ("/api/v1/structures?cursor=%FF%FE", 400),
        ("/api/v1/protocols?structure=%00", 400),
        ("/api/v1/dashboard?ref=%00", 400),
        ("/api/v1/protocols/%00", 404),
        ("/api/v1/protocols/%00/sequences", 404),
        ("/api/v1/protocols/nothing-like-it", 404),
        ("/api/v1/protocols/nothing-like-it/sequences", 404),
        ("/api/v1/nowhere", 404),
    ],
)
def test_errors_are_problem_details(api_as, url, status):
    response = api_as(UNIFORMATION).get(url)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]


def test_writing_methods_are_refused_with_problem_details(app, api_as):
    api = api_as(UNIFORMATION)
    response = api.client.post(
        "/api/v1/protocols", headers={"Authorization": f"Bearer {api.secret}"}
    )
    assert response.status_code == 405
    assert response.content_type == "application/problem+json"


def test_the_openapi_document_is_3_1_and_names_every_operation(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/api/v1/structures",
        "/api/v1/protocols",
        "/api/v1/protocols/{public_id}",
        "/api/v1/protocols/{public_id}/sequences",
        "/api/v1/dashboard",
        "/api/v1/vae/pathways",
    }
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path in document["paths"].values():
        answers = path["get"]["responses"]
        assert {"200", "401", "404", "429"} <= set(answers)
        assert set(answers["200"]["content"]) == {"application/json"}
        assert set(answers["404"]["content"]) == {"application/problem+json"}


@pytest.fixture()
def limited_app(app, connection):
    """The same database with the API's rate limit switched on, and low."""
    strict = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "ENV": "testing",
            "TESTING": True,
            "API_RATE_LIMIT": "3 per minute",
        }
    )
    database(strict).bind = database(app).bind
    yield strict
    limiter.init_app(app)  # Flask-Limiter keeps its state on its module-global instance


def test_each_token_is_rate_limited_with_a_problem(limited_app, make_token):
    api = Api(limited_app.test_client(), make_token(UNIFORMATION))
    statuses = [api.get("/api/v1/structures").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("/api/v1/structures")
    assert refused.content_type == "application/problem+json"
    assert refused.json["status"] == 429
    assert "Retry-After" in refused.headers
    other = Api(limited_app.test_client(), make_token(OPCO_SANTE))
    assert other.get("/api/v1/structures").status_code == 200  # counted per token
