"""The API tokens' rules, table-driven over the cast (tests/policy/cast.py): who manages
tokens, for which organisations she may create one, which tokens she lists and revokes."""

from __future__ import annotations

import pytest
from sqlmodel import select

from afest import policy
from afest.api import tokens
from afest.models import ApiToken, Organisation

from .cast import plain_actor, rows

EVERY_TOKEN_HOLDER = {"funder", "other OPCO", "structure", "other structure", "sister structure"}

# rule(actor): who → True
ACTOR_TABLES = {
    "can_manage_api_tokens": {"admin": True, "opco-funder": True, "opco-other": True},
}
# condition(actor) on the world's organisations: who → the organisations it returns
ORGANISATION_TABLES = {
    "api_token_organisations": {
        "admin": EVERY_TOKEN_HOLDER,  # OPCOs and structures, not support bodies
        "opco-funder": {"funder"},
        "opco-other": {"other OPCO"},
    },
}
# condition(actor) on one token of each OPCO and structure: who → the organisations of the
# tokens it returns
TOKEN_TABLES = {
    "api_token_visible": {
        "admin": EVERY_TOKEN_HOLDER,
        "opco-funder": {"funder"},
        "opco-other": {"other OPCO"},
    },
}
TABLES = {**ACTOR_TABLES, **ORGANISATION_TABLES, **TOKEN_TABLES}


@pytest.mark.parametrize(("rule", "who", "expected"), rows(ACTOR_TABLES))
def test_actor_rule(rule, who, expected):
    assert getattr(policy, rule)(plain_actor(who)) is bool(expected)


@pytest.mark.parametrize(("rule", "who", "expected"), rows(ORGANISATION_TABLES))
def test_organisation_condition(world, rule, who, expected):
    condition = getattr(policy, rule)(world.actors[who])
    assert world.found(Organisation, condition) == set(expected)


@pytest.fixture(scope="module")
def held(world) -> dict[int, str]:
    """One token of each OPCO and structure of the world: token id → its organisation."""
    by_id = {}
    admin = world.actors["admin"].id
    for name in sorted(EVERY_TOKEN_HOLDER):
        org = world.session.get(Organisation, world.ids[Organisation][name])
        token, _secret = tokens.create_token(
            world.session, actor_id=admin, organisation=org, name=name
        )
        by_id[token.id] = name
    return by_id


@pytest.mark.parametrize(("rule", "who", "expected"), rows(TOKEN_TABLES))
def test_token_condition(world, held, rule, who, expected):
    condition = getattr(policy, rule)(world.actors[who])
    found = world.session.exec(select(ApiToken.id).where(ApiToken.id.in_(list(held)), condition))
    assert {held[i] for i in found} == set(expected)
