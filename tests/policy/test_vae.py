"""VAE visibility and permissions, table-driven: who sees a pathway (SQL, on conftest's
`world`), who records its milestones, who writes the feasibility self-assessment (on the
learner's pathway of tests/policy/cast.py)."""

from __future__ import annotations

import pytest

from afest import policy
from afest.models import VaePathway

from .cast import everyone, plain_actor, plain_pathway, rows

# vae_visible(actor): who → the world's pathways it returns
VISIBILITY_TABLES = {
    "vae_visible": {
        "learner": {"the pathway"},
        "consultant-accompanying": {"the pathway"},
        "consultant-cohort": {"the pathway"},
        "consultant-other-cohort": {"other structure's pathway"},
        "manager": {"the pathway"},
        "manager-other-structure": {"other structure's pathway"},
        # nobody else: tutors, OPCO and administrators do not read VAE files
    },
}
# rule(actor, the learner's pathway): who → True
PATHWAY_TABLES = {
    "can_view_vae": everyone(True),  # vae_visible decides
    "can_record_vae_milestone": {"consultant-accompanying": True, "manager": True},
    "can_edit_feasibility": {"learner": True, "consultant-accompanying": True, "manager": True},
}

TABLES = {**VISIBILITY_TABLES, **PATHWAY_TABLES}


@pytest.mark.parametrize(("rule", "who", "expected"), rows(VISIBILITY_TABLES))
def test_vae_visible(world, rule, who, expected):
    condition = getattr(policy, rule)(world.actors[who])
    assert world.found(VaePathway, condition) == set(expected)


@pytest.mark.parametrize(("rule", "who", "expected"), rows(PATHWAY_TABLES))
def test_pathway_rule(rule, who, expected):
    assert getattr(policy, rule)(plain_actor(who), plain_pathway()) is bool(expected)
