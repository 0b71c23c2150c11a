"""VAE visibility and permissions, table-driven: who sees a pathway, who records its
milestones, who writes the feasibility self-assessment."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from afest import policy
from afest.accounts import operations as accounts
from afest.accounts.identity import Actor, UserView
from afest.models import CohortConsultant, Role, User, VaePathway
from afest.vae import operations as vae


def actor(session, user: User) -> Actor:
    return Actor(
        user=UserView.of(user), token="", assignments=accounts.roles_of(session, user_id=user.id)
    )


@pytest.fixture()
def world(session, make_protocol, make_user, make_structure):
    """A pathway in a structure of its own, and everybody around it."""
    protocol, people = make_protocol()
    consultant = make_user([(Role.CONSULTANT, None)], name="Accompagnatrice")
    follower = make_user([(Role.CONSULTANT, None)], name="Consultant de la cohorte")
    stranger_consultant = make_user([(Role.CONSULTANT, None)], name="Autre consultant")
    other_structure = make_structure()
    other_manager = make_user([(Role.MANAGER, other_structure.id)])
    other_learner = make_user([(Role.LEARNER, protocol.structure_id)])
    admin = make_user([(Role.ADMIN, None)])
    opco = make_user([(Role.OPCO, None)])
    cohort_id = session.exec(select(CohortConsultant.cohort_id)).first()
    session.add(CohortConsultant(cohort_id=cohort_id, user_id=follower.id))
    pathway = vae.start_pathway(
        session,
        actor_id=people["manager"].id,
        learner_id=people["learner"].id,
        structure_id=protocol.structure_id,
        referential_id=protocol.referential_id,
        cohort_id=cohort_id,
        consultant_id=consultant.id,
        started_on=date.today(),
    )
    session.flush()
    return pathway, {
        "learner": people["learner"],
        "manager": people["manager"],
        "tutor": people["tutor"],
        "consultant": consultant,
        "follower": follower,
        "stranger_consultant": stranger_consultant,
        "other_manager": other_manager,
        "other_learner": other_learner,
        "admin": admin,
        "opco": opco,
    }


# who → (sees, records milestones, edits the self-assessment)
TABLE = {
    "learner": (True, False, True),
    "manager": (True, True, True),
    "consultant": (True, True, True),
    "follower": (True, False, False),
    "tutor": (False, False, False),
    "stranger_consultant": (False, False, False),
    "other_manager": (False, False, False),
    "other_learner": (False, False, False),
    "admin": (False, False, False),
    "opco": (False, False, False),
}


@pytest.mark.parametrize("who", sorted(TABLE))
def test_vae_rules(session, world, who):
    pathway, people = world
    a = actor(session, people[who])
    sees = (
        session.exec(
            select(VaePathway.id).where(VaePathway.id == pathway.id, policy.vae_visible(a))
        ).first()
        is not None
    )
    expected = TABLE[who]
    assert sees == expected[0]
    if sees:
        assert policy.can_record_vae_milestone(a, pathway) == expected[1]
        assert policy.can_edit_feasibility(a, pathway) == expected[2]


def test_learner_record_is_the_learners_alone(session, world):
    _pathway, people = world
    learner = people["learner"]
    assert policy.can_view_learner_record(actor(session, learner), learner)
    for who in ("manager", "tutor", "consultant", "other_learner", "admin"):
        assert not policy.can_view_learner_record(actor(session, people[who]), learner)
