"""Authorization table of the read-only API and of its tokens' page.

The API reads no cookie: a signed-in person without a token is answered 401, whatever her
role (the token × tenant matrix is in tests/api). The OpenAPI document is public. The tokens'
page is the administrators' (every organisation) and the OPCO advisers' (their OPCO's);
a token of another OPCO is not found by an adviser (404).
"""

from __future__ import annotations

from sqlmodel import select

from afest.api import tokens
from afest.models import Organisation, User
from tests.authz import ObjectKind, Route, each


def _admin_id(session) -> int:
    return session.exec(select(User.id).where(User.email == "admin@afest.demo")).one()


def _token_of(session, code: str) -> str:
    org = session.exec(select(Organisation).where(Organisation.code == code)).one()
    token, _secret = tokens.create_token(
        session, actor_id=_admin_id(session), organisation=org, name="Système"
    )
    session.flush()
    return token.public_id


OBJECTS = {
    # the adviser of the table is Uniformation's; OPCO Santé's token is another tenant's
    "api_token": ObjectKind(
        in_scope=lambda session, who: _token_of(session, "UNIFORMATION"),
        foreign=lambda session, factories: _token_of(session, "OPCO-SANTE"),
    ),
}

NO_COOKIE = each(401, anon=401)

ROUTES = {
    "api.openapi": Route("GET", each(200, anon=200), foreign=None),
    "api.structures": Route("GET", NO_COOKIE, foreign=None),
    "api.protocols": Route("GET", NO_COOKIE, foreign=None),
    "api.protocol": Route("GET", NO_COOKIE, obj="protocol", foreign=401),
    "api.sequences": Route("GET", NO_COOKIE, obj="protocol", foreign=401),
    "api.dashboard": Route("GET", NO_COOKIE, foreign=None),
    "api.pathways": Route("GET", NO_COOKIE, foreign=None),
    "api_tokens.index": Route("GET", each(403, admin=200, opco=200), foreign=None),
    # the form sent is empty: answered on it, nothing created
    "api_tokens.create": Route("POST", each(403, admin=422, opco=422), foreign=None),
    "api_tokens.revoke": Route(
        "POST",
        each(403, admin=302, opco=302),
        obj="api_token",
        foreign=each(403, admin=302, opco=404),
    ),
}
