"""The people and objects every policy table speaks of.

Each person's name says their relation to *the protocol* (and to its structure, its funder,
its cohort, and the learner's VAE pathway):

- the protocol: in "structure" (whose OPCO, "funder", funds it) and in "cohort"; its learner
  is `learner`; its tutors are `designated-tutor` (current), `tutor-designation-ended`
  (designation ended) and `designated-no-tutor-role` (current designation, tutor role since
  removed);
- "cohort" groups "structure" and is followed by `consultant-cohort` and by
  `follower-no-consultant-role` (who no longer holds the consultant role); "other cohort"
  groups "other structure" and is followed by `consultant-other-cohort`;
- the learner's VAE pathway, in "structure" and "cohort", is accompanied by
  `consultant-accompanying` (who follows no cohort).

The plain world below gives them fixed ids, for the rules that are predicates on a loaded
object; conftest's `world` creates them in the database, for the SQL visibility conditions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from afest.accounts.identity import Actor, Assignment, UserView
from afest.models import (
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Referential,
    ReferentialKind,
    Role,
    User,
    VaePathway,
)

# name → roles held: (role, organisation of the world, or None)
CAST: dict[str, list[tuple[Role, str | None]]] = {
    "designated-tutor": [(Role.TUTOR, "structure")],
    "tutor-not-designated": [(Role.TUTOR, "structure")],
    "tutor-designation-ended": [(Role.TUTOR, "structure")],
    "designated-no-tutor-role": [],
    "manager": [(Role.MANAGER, "structure")],
    "manager-other-structure": [(Role.MANAGER, "other structure")],
    "learner": [(Role.LEARNER, "structure")],
    "other-learner": [(Role.LEARNER, "structure")],
    "opco-funder": [(Role.OPCO, "funder")],
    "opco-other": [(Role.OPCO, "other OPCO")],
    "opco-no-organisation": [(Role.OPCO, None)],
    "consultant-cohort": [(Role.CONSULTANT, "support body")],
    "consultant-other-cohort": [(Role.CONSULTANT, "support body")],
    "consultant-accompanying": [(Role.CONSULTANT, "support body")],
    "follower-no-consultant-role": [],
    "admin": [(Role.ADMIN, None)],
}
# The protocol's tutor designations: (tutor, ended or not).
TUTORS = (
    ("designated-tutor", False),
    ("tutor-designation-ended", True),
    ("designated-no-tutor-role", False),
)
FOLLOWERS = {
    "cohort": ("consultant-cohort", "follower-no-consultant-role"),
    "other cohort": ("consultant-other-cohort",),
}
ENDED = datetime(2026, 1, 5, tzinfo=UTC)

ALL = frozenset(ProtocolStatus)
NEVER: frozenset = frozenset()
NOT_OVER = frozenset(
    {ProtocolStatus.DRAFT, ProtocolStatus.AWAITING_SIGNATURES, ProtocolStatus.IN_PROGRESS}
)


def everyone(value) -> dict:
    return dict.fromkeys(CAST, value)


def check_table(table: dict) -> dict:
    """A table names only people of the cast (a typo would silently expect "never")."""
    unknown = set(table) - set(CAST)
    assert not unknown, f"not in the cast: {unknown}"
    return table


def rows(tables: dict[str, dict]) -> list:
    """One row (rule, who, expected) for every rule and everybody of the cast, with its id;
    who is not in a table is expected to be refused everything (`NEVER`)."""
    return [
        pytest.param(rule, who, check_table(table).get(who, NEVER), id=f"{rule}-{who}")
        for rule, table in tables.items()
        for who in CAST
    ]


# --- the plain world: fixed ids, objects not in the database --------------------------------

PERSON_IDS = {name: n for n, name in enumerate(CAST, start=1)}
ORG_IDS = {
    "structure": 101,
    "other structure": 102,
    "funder": 201,
    "other OPCO": 202,
    "support body": 301,
}
COHORT_IDS = {"cohort": 401, "other cohort": 402}


def actor_of(user: User, roles: list[tuple[Role, int | None]]) -> Actor:
    return Actor(user=UserView.of(user), token="", assignments=[Assignment(*r) for r in roles])


def plain_user(name: str) -> User:
    return User(id=PERSON_IDS[name], email=f"{name}@example.org", full_name=name, password_hash="")


def plain_actor(name: str) -> Actor:
    return actor_of(
        plain_user(name), [(role, ORG_IDS[org] if org else None) for role, org in CAST[name]]
    )


def plain_protocol(status: ProtocolStatus) -> Protocol:
    return Protocol(
        id=1,
        title="AFEST",
        planned_start=date(2026, 1, 1),
        planned_end=date(2026, 3, 1),
        learner_id=PERSON_IDS["learner"],
        structure_id=ORG_IDS["structure"],
        funder_id=ORG_IDS["funder"],
        cohort_id=COHORT_IDS["cohort"],
        referential_id=1,
        status=status,
        tutors=[
            ProtocolTutor(tutor_id=PERSON_IDS[who], ended_at=ENDED if ended else None)
            for who, ended in TUTORS
        ],
    )


def plain_pathway() -> VaePathway:
    return VaePathway(
        id=1,
        learner_id=PERSON_IDS["learner"],
        structure_id=ORG_IDS["structure"],
        cohort_id=COHORT_IDS["cohort"],
        referential_id=1,
        consultant_id=PERSON_IDS["consultant-accompanying"],
    )


# référentiels: a national one, the structure's own, another structure's
REFERENTIALS = {
    "national": (ReferentialKind.CERTIFICATION, None),
    "structure's own": (ReferentialKind.STRUCTURE, "structure"),
    "another structure's": (ReferentialKind.STRUCTURE, "other structure"),
}


def plain_referential(name: str) -> Referential:
    kind, owner = REFERENTIALS[name]
    return Referential(
        code=name, title=name, kind=kind, owner_structure_id=ORG_IDS[owner] if owner else None
    )
