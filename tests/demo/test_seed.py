"""The demo data: the two programmes of DOMAIN.md, idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import func
from sqlmodel import Session, select

from afest import demo
from afest.core.database import make_engine
from afest.models import (
    AuditEntry,
    Cohort,
    CohortConsultant,
    CohortStructure,
    Evaluation,
    Protocol,
    ProtocolStatus,
    Role,
    RoleAssignment,
    Sequence,
    Signature,
    SignedKind,
    User,
    VaeMilestone,
    VaePathway,
    VaeState,
    metadata,
)
from afest.proof import signatures
from afest.proof.integrity import verify_all
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


# The demo tells a story in the past: each signature is dated when its record was signed in
# that story, each entry of a protocol's audit chain when it happened, in order.
PARIS = ZoneInfo("Europe/Paris")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)


def test_demo_sequences_are_signed_the_day_they_happened(session):
    rows = session.exec(
        select(Signature, Sequence)
        .join(Sequence, Sequence.id == Signature.subject_id)
        .where(Signature.subject_kind == SignedKind.SEQUENCE)
    ).all()
    assert len(rows) > 300
    for signature, sequence in rows:
        ended = _aware(sequence.occurred_at) + timedelta(minutes=sequence.duration_minutes)
        signed = _aware(signature.signed_at)
        assert ended <= signed <= ended + timedelta(days=1), (sequence.public_id, signed)


def test_demo_protocols_are_signed_before_they_start(session):
    rows = session.exec(
        select(Signature, Protocol)
        .join(Protocol, Protocol.id == Signature.subject_id)
        .where(Signature.subject_kind == SignedKind.PROTOCOL)
    ).all()
    assert len(rows) > 150
    for signature, protocol in rows:
        signed = _aware(signature.signed_at)
        assert signed < _start_of(protocol.planned_start), (protocol.title, signed)
        assert signed >= _aware(protocol.created_at)


def test_demo_evaluations_are_signed_on_the_day_or_the_next(session):
    rows = session.exec(
        select(Signature, Evaluation)
        .join(Evaluation, Evaluation.id == Signature.subject_id)
        .where(Signature.subject_kind == SignedKind.EVALUATION)
    ).all()
    assert len(rows) > 50
    for signature, evaluation in rows:
        signed = _aware(signature.signed_at)
        day = evaluation.evaluated_on
        assert _start_of(day) <= signed < _start_of(day + timedelta(days=2)), evaluation.public_id


def test_demo_audit_chains_follow_the_story_in_order(session):
    entries = session.exec(
        select(AuditEntry).where(AuditEntry.protocol_id.is_not(None)).order_by(AuditEntry.id)
    ).all()
    last: dict[int, datetime] = {}
    now = datetime.now(UTC)
    for entry in entries:
        at = _aware(entry.at)
        assert at <= now
        assert at >= last.get(entry.protocol_id, at), (entry.protocol_id, entry.action)
        last[entry.protocol_id] = at
    sign_entries = {
        (e.subject_kind, e.subject_id, e.after["role"]): _aware(e.at)
        for e in entries
        if e.action.endswith(".sign")
    }
    for signature in session.exec(select(Signature)).all():
        key = (str(signature.subject_kind), signature.subject_id, str(signature.signer_role))
        assert sign_entries[key] == _aware(signature.signed_at), key
    assert verify_all(session) == []


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


def test_the_story_clock_holds_within_its_block_only_and_never_ahead():
    from afest.models import utcnow
    from afest.models.base import writing_at

    then = datetime(2026, 3, 2, 9, 30, tzinfo=PARIS)
    with writing_at(then):
        assert utcnow() == then and utcnow().tzinfo == UTC
    assert utcnow() - datetime.now(UTC) < timedelta(seconds=5)
    with pytest.raises(ValueError), writing_at(datetime.now(UTC) + timedelta(hours=1)):
        pass  # pragma: no cover
    with pytest.raises(ValueError), writing_at(datetime(2026, 3, 2, 9, 30)):
        pass  # pragma: no cover


def test_only_the_demo_dates_its_writes():
    from pathlib import Path

    import afest

    root = Path(afest.__file__).parent
    users = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "writing_at" in path.read_text(encoding="utf-8")
    )
    assert users == ["demo/protocol.py", "models/base.py"]
