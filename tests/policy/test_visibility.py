"""The policy's SQL visibility conditions, table-driven: for each condition and each person of
the cast (tests/policy/cast.py), which objects of conftest's `world` a
`select(...).where(condition)` returns. The demo data is in the database too; the queries
look only at the world's objects."""

from __future__ import annotations

import pytest

from afest import policy
from afest.accounts.identity import Anonymous
from afest.models import Cohort, Organisation, Protocol, Referential

from .cast import rows

EVERY_ORGANISATION = {
    "structure",
    "other structure",
    "sister structure",
    "funder",
    "other OPCO",
    "support body",
    "support body with an OPCO",
}

# condition(actor) on a model: who → the world's objects it returns
PROTOCOL_TABLES = {
    "protocol_visible": {
        "designated-tutor": {"the protocol"},
        "manager": {"the protocol", "draft, no cohort"},
        "manager-other-structure": {"stopped, other structure"},
        "learner": {"the protocol"},
        "opco-funder": {"the protocol", "draft, no cohort"},
        "opco-other": {"stopped, other structure"},
        "consultant-cohort": {"the protocol"},
        "consultant-other-cohort": {"stopped, other structure"},
    },
}
STRUCTURES = {
    "manager": {"structure"},
    "manager-other-structure": {"other structure"},
    "opco-funder": {"structure", "sister structure"},
    "opco-other": {"other structure"},
    "consultant-cohort": {"structure"},
    "consultant-other-cohort": {"other structure"},
}
ORGANISATION_TABLES = {
    "structure_visible": {**STRUCTURES, "admin": EVERY_ORGANISATION},
    # structure_visible without the administrator's
    "structure_dashboard_visible": STRUCTURES,
}
REFERENTIAL_TABLES = {
    "referential_visible": {
        "admin": {"national", "structure's own", "another structure's"},
        "manager": {"national", "structure's own"},
        "manager-other-structure": {"national", "another structure's"},
    },
}
COHORT_TABLES = {
    "cohort_followed": {
        "consultant-cohort": {"cohort"},
        "consultant-other-cohort": {"other cohort"},
    },
}
# a SQL select of cohort ids, not a condition: the cohorts followed, role or not (its caller,
# blueprints/dashboards._structure_scope, asks it of consultants only)
FOLLOWED_COHORT_IDS = {
    "followed_cohort_ids": {
        "consultant-cohort": {"cohort"},
        "consultant-other-cohort": {"other cohort"},
        "follower-no-consultant-role": {"cohort"},
    },
}
CONDITIONS = (
    (Protocol, PROTOCOL_TABLES),
    (Organisation, ORGANISATION_TABLES),
    (Referential, REFERENTIAL_TABLES),
    (Cohort, COHORT_TABLES),
)

TABLES = {
    **PROTOCOL_TABLES,
    **ORGANISATION_TABLES,
    **REFERENTIAL_TABLES,
    **COHORT_TABLES,
    **FOLLOWED_COHORT_IDS,
}


@pytest.mark.parametrize(
    ("model", "rule", "who", "expected"),
    [
        pytest.param(model, *row.values, id=row.id)
        for model, tables in CONDITIONS
        for row in rows(tables)
    ],
)
def test_condition(world, model, rule, who, expected):
    condition = getattr(policy, rule)(world.actors[who])
    assert world.found(model, condition) == set(expected)


@pytest.mark.parametrize(("rule", "who", "expected"), rows(FOLLOWED_COHORT_IDS))
def test_followed_cohort_ids(world, rule, who, expected):
    ids = set(world.session.scalars(getattr(policy, rule)(world.actors[who]))) & set(
        world.ids[Cohort].values()
    )
    assert world.name_of(Cohort, ids) == set(expected)


@pytest.mark.parametrize(
    ("model", "rule"), [(model, rule) for model, tables in CONDITIONS for rule in tables]
)
def test_an_anonymous_visitor_sees_nothing(world, model, rule):
    assert world.found(model, getattr(policy, rule)(Anonymous())) == set()
