"""The cast of tests/policy/cast.py in the database, for the SQL visibility conditions."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlmodel import Session, select

from afest.accounts.identity import Actor
from afest.core.database import database
from afest.models import (
    Cohort,
    CohortConsultant,
    CohortStructure,
    Organisation,
    OrgKind,
    Protocol,
    ProtocolStatus,
    ProtocolTutor,
    Referential,
    Role,
    RoleAssignment,
    User,
    VaePathway,
)

from .cast import CAST, ENDED, FOLLOWERS, REFERENTIALS, TUTORS, actor_of


@dataclass
class World:
    """Ids of the world's objects by kind and name, its people as actors, and the session
    that sees it."""

    session: Session
    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[type, dict[str, int]] = field(default_factory=dict)

    def name_of(self, kind: type, ids) -> set[str]:
        by_id = {i: name for name, i in self.ids[kind].items()}
        return {by_id[i] for i in ids}

    def found(self, model: type, condition) -> set[str]:
        """The names of the world's `model` objects that `condition` selects."""
        query = select(model.id).where(model.id.in_(self.ids[model].values()), condition)
        return self.name_of(model, self.session.exec(query))


def _org(session, name: str, kind: OrgKind, opco: Organisation | None = None) -> Organisation:
    org = Organisation(
        name=f"{name} {secrets.token_hex(3)}",
        kind=kind,
        code=secrets.token_hex(4) if kind == OrgKind.OPCO else None,
        siret=str(secrets.randbelow(10**14)).zfill(14) if kind == OrgKind.STRUCTURE else None,
        departement="75",
        opco_id=opco.id if opco else None,
    )
    session.add(org)
    session.flush()
    return org


@pytest.fixture(scope="module")
def world(app) -> Iterator[World]:
    """The world, built once for a test module (its tests only read it), in a transaction of
    its own rolled back at the module's end."""
    connection = database(app).engine.connect()
    transaction = connection.begin()
    try:
        with Session(bind=connection, expire_on_commit=False) as session:
            yield build_world(session)
    finally:
        transaction.rollback()
        connection.close()


def _user(session, roles: list[tuple[Role, int | None]], name: str) -> User:
    user = User(email=f"u{secrets.token_hex(5)}@example.org", full_name=name, password_hash="")
    session.add(user)
    session.flush()
    session.add_all(RoleAssignment(user_id=user.id, role=r, organisation_id=o) for r, o in roles)
    return user


def build_world(session) -> World:
    """Organisations, cohorts, people, protocols, VAE pathways and référentiels of the cast.

    Besides the protocol of the cast: a draft of the same structure outside any cohort, and a
    stopped protocol of the other structure, each with a learner (and tutor) of their own."""
    w = World(session=session)
    funder = _org(session, "OPCO", OrgKind.OPCO)
    other_opco = _org(session, "Autre OPCO", OrgKind.OPCO)
    orgs = {
        "funder": funder,
        "other OPCO": other_opco,
        "support body": _org(session, "Aract", OrgKind.SUPPORT_BODY),
        "structure": _org(session, "Structure", OrgKind.STRUCTURE, funder),
        "other structure": _org(session, "Autre structure", OrgKind.STRUCTURE, other_opco),
        # funded by the same OPCO, managed by nobody of the cast, in no cohort
        "sister structure": _org(session, "Structure soeur", OrgKind.STRUCTURE, funder),
        # not a structure, though an OPCO is set on it: no "structure" condition returns it
        "support body with an OPCO": _org(session, "Dava", OrgKind.SUPPORT_BODY, funder),
    }
    w.ids[Organisation] = {name: org.id for name, org in orgs.items()}

    people = {}
    for name, roles in CAST.items():
        roles = [(role, orgs[org].id if org else None) for role, org in roles]
        people[name] = _user(session, roles, name)
        w.actors[name] = actor_of(people[name], roles)
    # people of the other protocols, not in the tables
    draft_learner = _user(session, [(Role.LEARNER, orgs["structure"].id)], "draft learner")
    other_learner = _user(session, [(Role.LEARNER, orgs["other structure"].id)], "learner")
    other_tutor = _user(session, [(Role.TUTOR, orgs["other structure"].id)], "tutor")

    cohorts = {}
    for name, structure in (("cohort", "structure"), ("other cohort", "other structure")):
        cohorts[name] = Cohort(code=f"C-{secrets.token_hex(4)}", name=name)
        session.add(cohorts[name])
        session.flush()
        session.add(CohortStructure(cohort_id=cohorts[name].id, structure_id=orgs[structure].id))
        for who in FOLLOWERS[name]:
            session.add(CohortConsultant(cohort_id=cohorts[name].id, user_id=people[who].id))
    w.ids[Cohort] = {name: cohort.id for name, cohort in cohorts.items()}

    national = session.exec(select(Referential).where(Referential.code == "RNCP35830")).one()
    referentials = {}
    for name, (kind, owner) in REFERENTIALS.items():
        referentials[name] = Referential(
            code=f"R-{secrets.token_hex(4)}",
            title=name,
            kind=kind,
            owner_structure_id=orgs[owner].id if owner else None,
        )
        session.add(referentials[name])
    session.flush()
    w.ids[Referential] = {name: ref.id for name, ref in referentials.items()}

    def protocol(learner, structure, cohort, status, tutors):
        p = Protocol(
            title="AFEST",
            planned_start=date(2026, 1, 1),
            planned_end=date(2026, 3, 1),
            learner_id=learner.id,
            structure_id=orgs[structure].id,
            funder_id=orgs[structure].opco_id,
            cohort_id=cohorts[cohort].id if cohort else None,
            referential_id=national.id,
            status=status,
            created_by_id=people["manager"].id,
        )
        session.add(p)
        session.flush()
        for tutor, ended in tutors:
            session.add(
                ProtocolTutor(
                    protocol_id=p.id,
                    tutor_id=tutor.id,
                    designated_at=ENDED,
                    designated_by_id=people["manager"].id,
                    ended_at=ENDED if ended else None,
                )
            )
        return p.id

    w.ids[Protocol] = {
        "the protocol": protocol(
            people["learner"],
            "structure",
            "cohort",
            ProtocolStatus.IN_PROGRESS,
            [(people[who], ended) for who, ended in TUTORS],
        ),
        "draft, no cohort": protocol(draft_learner, "structure", None, ProtocolStatus.DRAFT, []),
        "stopped, other structure": protocol(
            other_learner,
            "other structure",
            "other cohort",
            ProtocolStatus.STOPPED,
            [(other_tutor, False)],
        ),
    }

    pathways = {
        "the pathway": VaePathway(
            learner_id=people["learner"].id,
            structure_id=orgs["structure"].id,
            cohort_id=cohorts["cohort"].id,
            referential_id=national.id,
            consultant_id=people["consultant-accompanying"].id,
        ),
        "other structure's pathway": VaePathway(
            learner_id=other_learner.id,
            structure_id=orgs["other structure"].id,
            cohort_id=cohorts["other cohort"].id,
            referential_id=national.id,
        ),
    }
    session.add_all(pathways.values())
    session.flush()
    w.ids[VaePathway] = {name: p.id for name, p in pathways.items()}
    return w
