"""The organisation rules, table-driven over the cast (tests/policy/cast.py): who manages
OPCOs, support bodies, structures and cohorts; whose uploaded files one may open."""

from __future__ import annotations

import pytest
from sqlmodel import select

from afest import policy
from afest.core import uploads
from afest.models import Upload, User

from .cast import CAST, plain_actor, rows

# rule(actor): who → True
ACTOR_TABLES = {
    "can_manage_organisations": {"admin": True},
}
# condition(actor) on the world's uploads: who → the uploads it returns (each person of the
# cast sent one, named after them)
UPLOAD_TABLES = {
    "upload_visible": {who: {who} for who in CAST},
}
TABLES = {**ACTOR_TABLES, **UPLOAD_TABLES}


@pytest.mark.parametrize(("rule", "who", "expected"), rows(ACTOR_TABLES))
def test_actor_rule(rule, who, expected):
    assert getattr(policy, rule)(plain_actor(who)) is bool(expected)


@pytest.fixture(scope="module")
def sent(world) -> dict[int, str]:
    """One file sent by each person of the cast: upload id → its sender's name."""
    by_id = {}
    for who, actor in world.actors.items():
        user = world.session.get(User, actor.id)
        upload = uploads.keep(
            world.session, owner_id=user.id, purpose="structures", filename=who, content=b"x"
        )
        by_id[upload.id] = who
    return by_id


@pytest.mark.parametrize(("rule", "who", "expected"), rows(UPLOAD_TABLES))
def test_upload_condition(world, sent, rule, who, expected):
    condition = getattr(policy, rule)(world.actors[who])
    found = world.session.exec(select(Upload.id).where(Upload.id.in_(list(sent)), condition)).all()
    assert {sent[i] for i in found} == set(expected)
