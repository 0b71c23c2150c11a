"""Fixtures of the API's tests: tokens of the demo's organisations, and a client that sends
one (no cookie)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from afest.api import tokens
from afest.models import Organisation, User

UNIFORMATION = "UNIFORMATION"
OPCO_SANTE = "OPCO-SANTE"


def organisation(session, *, code: str | None = None, name: str | None = None) -> Organisation:
    where = Organisation.code == code if code else Organisation.name == name
    return session.exec(select(Organisation).where(where)).one()


@pytest.fixture()
def make_token(session):
    """make_token("UNIFORMATION") or make_token(organisation=org): the secret of a new token."""

    def make(code: str | None = None, *, organisation: Organisation | None = None) -> str:
        org = (
            organisation
            or session.exec(select(Organisation).where(Organisation.code == code)).one()
        )
        admin = session.exec(select(User.id).where(User.email == "admin@afest.demo")).one()
        _token, secret = tokens.create_token(session, actor_id=admin, organisation=org, name="SI")
        session.flush()
        return secret

    return make


class Api:
    """A test client that sends a token: api.get("/api/v1/protocols")."""

    def __init__(self, client, secret: str | None):
        self.client = client
        self.secret = secret

    def get(self, url: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        return self.client.get(url, headers=headers, **kwargs)

    def all(self, url: str) -> list[dict]:
        """Every item of a list, page after page through the `next` links."""
        items = []
        while url:
            response = self.get(url)
            assert response.status_code == 200, response.get_data(as_text=True)
            items += response.json["items"]
            url = response.json["next"]
        return items


@pytest.fixture()
def api_as(app, connection, make_token):
    """api_as("UNIFORMATION"): a client reading with a new token of that organisation."""

    def make(code: str | None = None, *, organisation: Organisation | None = None) -> Api:
        return Api(app.test_client(), make_token(code, organisation=organisation))

    return make
