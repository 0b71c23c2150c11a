"""The demo data: the two programmes of DOMAIN.md, idempotent."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import command
from sqlalchemy import func
from sqlmodel import Session, select

from afest import demo
from afest.core.database import make_engine
from afest.models import (
    Cohort,
    CohortConsultant,
    CohortStructure,
    Protocol,
    ProtocolStatus,
    Role,
    RoleAssignment,
    Sequence,
    SignedKind,
    User,
    VaeMilestone,
    VaePathway,
    VaeState,
    metadata,
)
from afest.proof import signatures
from tests.conftest import alembic_config


def _counts(conn) -> dict[str, int]:
    return {
        name: conn.execute(sa.select(func.count()).select_from(table)).scalar_one()
        for name, table in metadata.tables.items()
    }


def test_seeding_twice_gives_the_same_counts(fresh_database_url):
    engine = make_engine(fresh_database_url())
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "heads")
        with Session(engine) as session:
            created = demo.seed(session)
            session.commit()
        assert created["protocols"] == 97
        with engine.connect() as conn:
            first = _counts(conn)
        with Session(engine) as session:
            assert demo.seed(session) == {}
            session.commit()
        with engine.connect() as conn:
            assert _counts(conn) == first
    finally:
        engine.dispose()


def test_care_skills_is_10_structures_30_learners_90_afest(session):
    cohort = session.exec(select(Cohort).where(Cohort.code == demo.CARE_SKILLS)).one()
    structures = session.exec(
        select(func.count())
        .select_from(CohortStructure)
        .where(CohortStructure.cohort_id == cohort.id)
    ).one()
    learners, afest = session.exec(
        select(func.count(func.distinct(Protocol.learner_id)), func.count()).where(
            Protocol.cohort_id == cohort.id
        )
    ).one()
    pathways = session.exec(
        select(func.count()).select_from(VaePathway).where(VaePathway.cohort_id == cohort.id)
    ).one()
    followers = session.exec(
        select(func.count())
        .select_from(CohortConsultant)
        .where(CohortConsultant.cohort_id == cohort.id)
    ).one()
    assert (structures, learners, afest, pathways) == (10, 30, 90, 30)
    assert followers == 2


def test_every_role_has_a_demo_account(session):
    for role in Role:
        assert session.exec(select(RoleAssignment.id).where(RoleAssignment.role == role)).first()
    for _label, email in demo.DEMO_LOGINS:
        assert session.exec(select(User.id).where(User.email == email)).first(), email


def test_demo_protocols_cover_every_status_but_stopped(session):
    statuses = set(session.exec(select(Protocol.status).distinct()))
    assert statuses >= {
        ProtocolStatus.DRAFT,
        ProtocolStatus.AWAITING_SIGNATURES,
        ProtocolStatus.IN_PROGRESS,
        ProtocolStatus.COMPLETED,
    }


def test_demo_signatures_verify(session):
    sample = session.exec(select(Sequence).order_by(Sequence.id).limit(20)).all()
    for sequence in sample:
        checks = signatures.verify(session, SignedKind.SEQUENCE, sequence)
        assert checks and all(c.intact for c in checks)


def test_demo_jury_results_come_on_or_after_their_jury(session):
    pathways = session.exec(select(VaePathway)).all()
    results = 0
    for pathway in pathways:
        milestones = session.exec(
            select(VaeMilestone)
            .where(VaeMilestone.pathway_id == pathway.id)
            .order_by(VaeMilestone.occurred_on, VaeMilestone.id)
        ).all()
        planned = [m.jury_date for m in milestones if m.state == VaeState.JURY_PLANIFIE]
        for m in milestones:
            if m.state == VaeState.JURY_RESULTAT:
                results += 1
                assert planned and m.occurred_on >= planned[-1], pathway.id
                assert m.occurred_on <= date.today()
    assert results
