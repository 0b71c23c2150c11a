"""A learner's progress: per block from the database, pending countersignatures, and a fixed
number of queries whatever the number of sequences."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event, func
from sqlmodel import select

from afest.assessments import progress
from afest.models import (
    CompetenceAssessment,
    Level,
    Protocol,
    ProtocolCompetence,
    ProtocolStatus,
    User,
)
from tests.learner_factories import history


def _learner(session, email):
    return session.exec(select(User).where(User.email == email)).one()


def test_blocks_match_the_database_for_a_care_skills_learner(session):
    learner = _learner(session, "apprenant1@ehpad-01.demo")
    view = progress.progress(session, learner, today=date.today())
    mine = select(Protocol.id).where(
        Protocol.learner_id == learner.id, Protocol.status != ProtocolStatus.DRAFT
    )
    expected_targeted = dict(
        session.exec(
            select(
                ProtocolCompetence.block_code,
                func.count(func.distinct(ProtocolCompetence.competence_id)),
            )
            .where(ProtocolCompetence.protocol_id.in_(mine))
            .group_by(ProtocolCompetence.block_code)
        ).all()
    )
    assert {b.code: b.targeted for b in view.blocks} == expected_targeted
    # acquired: the latest assessment of each targeted competence is at an "acquired" level
    latest = (
        select(func.max(CompetenceAssessment.id))
        .where(CompetenceAssessment.protocol_id.in_(mine))
        .group_by(CompetenceAssessment.competence_id)
    )
    acquired_ids = set(
        session.exec(
            select(CompetenceAssessment.competence_id)
            .join(Level, Level.id == CompetenceAssessment.level_id)
            .where(CompetenceAssessment.id.in_(latest), Level.acquired.is_(True))
        )
    )
    for block in view.blocks:
        ids = {c.competence_id for c in block.competences}
        assert block.acquired == len(ids & acquired_ids)
    assert view.totals.sequences >= len(view.timeline) > 0


def test_pending_countersignature_and_levels_over_time(session, make_protocol):
    protocol, people = make_protocol()
    history(session, protocol, people, 6, countersign_last=False)
    view = progress.progress(session, people["learner"], today=date.today())
    assert [s.id for s, _p in view.pending_sequences] == [view.timeline[0].sequence.id]
    assert view.timeline[0].awaiting_me
    assert view.totals.situations == 3 and view.totals.reflections == 3
    assert view.next_step == "Refaire seule la semaine prochaine"
    assessed = [c for b in view.blocks for c in b.competences if c.current]
    assert len(assessed) == 3  # three reflections, one competence each


def test_a_learner_without_protocols_has_an_empty_page(session, make_user, make_structure):
    learner = make_user([])
    view = progress.progress(session, learner, today=date.today())
    assert view.blocks == [] and view.timeline == [] and view.totals.sequences == 0


def _count_page_queries(connection, client, learner) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        response = client.get(f"/parcours/{learner.public_id}")
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(
        [
            s
            for s in statements
            if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
        ]
    )


def test_progress_page_queries_do_not_grow_with_sequences(
    session, connection, make_protocol, login_as
):
    counts = []
    for n in (5, 200):
        protocol, people = make_protocol()
        history(session, protocol, people, n)
        client = login_as(people["learner"].email)
        counts.append(_count_page_queries(connection, client, people["learner"]))
    assert counts[0] > 5  # the listener did see the page's queries
    assert counts[0] == counts[1], counts
