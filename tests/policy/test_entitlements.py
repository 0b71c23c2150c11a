"""Rules that answer a set, decided once for many objects: for each person of the cast, the
set it gives, and that it agrees with the rule it stands for, object by object."""

from __future__ import annotations

import pytest

from afest import policy

from .cast import CAST, ORG_IDS, plain_actor

# rule(actor) -> the organisations it gives, by who (anyone else: none)
TABLES = {
    "learner_records_of": {
        "manager": {"structure"},
        "manager-other-structure": {"other structure"},
    },
}


@pytest.mark.parametrize("who", sorted(CAST))
def test_learner_records_of(who):
    actor = plain_actor(who)
    entitled = policy.learner_records_of(actor)
    assert entitled == {ORG_IDS[name] for name in TABLES["learner_records_of"].get(who, set())}
    for structure_id in ORG_IDS.values():
        assert (structure_id in entitled) == policy.sees_learner_records(actor, structure_id)
