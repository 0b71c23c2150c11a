"""Each block's acquired count over time: the moments read from the database (positioning,
reflexive sequences, evaluations, amendments), in one query, and the step chart's geometry."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import event

from afest.assessments import evaluations, trajectory
from afest.models import EvaluationKind, SignerRole
from afest.protocols import drafting
from afest.protocols import operations as protocols
from afest.sequences import operations as sequences
from tests.learner_factories import TZ, history, levels, reflection, situation, targeted

NOW = datetime(2026, 3, 20, 10, tzinfo=UTC)
START = date(2026, 3, 2)


def _paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ)


def _started_protocol(session, make_protocol, initial_ranks):
    """A protocol positioned at `initial_ranks` (one per targeted competence), then signed."""
    protocol, people = make_protocol(stage="draft", start=START)
    scale = levels(session, protocol)
    comps = [pc.competence_id for pc in targeted(session, protocol)]
    drafting.set_initial_positioning(
        session,
        actor_id=people["manager"].id,
        protocol=protocol,
        levels={c: scale[r].id for c, r in zip(comps, initial_ranks, strict=True)},
    )
    protocols.submit_for_signature(session, actor_id=people["manager"].id, protocol=protocol)
    for role, who in (
        (SignerRole.STRUCTURE, "manager"),
        (SignerRole.TUTOR, "tutor"),
        (SignerRole.LEARNER, "learner"),
    ):
        protocols.sign_protocol(
            session, actor_id=people[who].id, protocol=protocol, role=role, method="password"
        )
    session.commit()
    return protocol, people, comps, scale


def test_moments_follow_positioning_sequences_amendment_and_evaluation(session, make_protocol):
    with time_machine.travel(NOW, tick=False):
        # C1, C2 in the first block, C3, C4 in the second; C2 acquired from the start
        protocol, people, (c1, c2, c3, c4), scale = _started_protocol(
            session, make_protocol, [0, 2, 1, 0]
        )
        blocks = {pc.competence_id: pc.block_id for pc in targeted(session, protocol)}
        first, second = blocks[c1], blocks[c3]
        assert blocks[c2] == first and blocks[c4] == second and first != second
        acquired, not_yet = scale[2].id, scale[1].id

        s1 = situation(session, protocol, people, at=_paris(5, 9), competence_ids=[c1, c3])
        reflection(
            session,
            protocol,
            people,
            at=_paris(5, 14),
            situation_ids=[s1.id],
            levels_by_comp={c1: acquired},
        )
        s2 = situation(session, protocol, people, at=_paris(9, 9), competence_ids=[c3])
        wrong = reflection(
            session,
            protocol,
            people,
            at=_paris(10, 14),
            situation_ids=[s2.id],
            levels_by_comp={c3: acquired, c4: acquired},
        )
        # the tutor corrects it: C4 was not acquired after all
        sequences.amend_sequence(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            original=wrong,
            data=sequences.SequenceData(
                client_id="amended",
                occurred_at=_paris(10, 14),
                duration_minutes=45,
                situation_ids=[s2.id],
                levels={c3: acquired, c4: not_yet},
            ),
            reason="C4 pas encore acquise",
            tz=TZ,
        )
        # 00:30 in Paris on the 13th is still the 12th in UTC
        s3 = situation(session, protocol, people, at=_paris(12, 20), competence_ids=[c4])
        reflection(
            session,
            protocol,
            people,
            at=_paris(13, 0, 30),
            situation_ids=[s3.id],
            levels_by_comp={c4: acquired},
        )
        evaluations.create_evaluation(
            session,
            actor_id=people["tutor"].id,
            protocol=protocol,
            client_id="eval-1",
            kind=EvaluationKind.INTERMEDIATE,
            evaluated_on=date(2026, 3, 16),
            summary="Point d'étape",
            levels={c1: not_yet, c3: acquired},
        )
        session.commit()

        moments = trajectory.block_moments(
            session, people["learner"].id, zone=ZoneInfo("Europe/Paris")
        )
        in_utc = trajectory.block_moments(session, people["learner"].id)

    def seen(block):
        return [(m.on, m.source, m.evaluation_kind, m.acquired) for m in moments[block]]

    assert seen(first) == [
        (START, "initial", "", 1),  # C2
        (date(2026, 3, 5), "sequence", "", 2),  # C1 too
        (date(2026, 3, 16), "evaluation", "intermediate", 1),  # C1 fell back
    ]
    assert seen(second) == [
        (START, "initial", "", 0),
        (date(2026, 3, 10), "sequence", "", 1),  # C3, the amendment's C4 not acquired
        (date(2026, 3, 13), "sequence", "", 2),  # C4
        (date(2026, 3, 16), "evaluation", "intermediate", 2),
    ]
    assert [m.on for m in in_utc[second]][2] == date(2026, 3, 12)


def test_moments_take_one_query_whatever_the_number_of_sequences(
    session, connection, make_protocol
):
    counts = []
    for n in (4, 60):
        protocol, people = make_protocol()
        history(session, protocol, people, n)
        statements: list[str] = []

        def count(conn, cursor, statement, *args, seen=statements):
            seen.append(statement)

        event.listen(connection, "before_cursor_execute", count)
        try:
            moments = trajectory.block_moments(session, people["learner"].id)
        finally:
            event.remove(connection, "before_cursor_execute", count)
        assert sum(len(m) for m in moments.values()) == n // 2  # one moment per reflection
        counts.append(
            [s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]
        )
    assert [len(c) for c in counts] == [1, 1], counts


def test_step_chart_places_days_in_proportion_and_steps_between_them():
    chart = trajectory.step_chart(
        [(date(2026, 3, 1), 0), (date(2026, 3, 3), 2), (date(2026, 3, 5), 1)],
        4,
        width=120,
        height=60,
        margin=(10, 10, 10, 20),
    )
    # x: 20 to 110 over four days; y: 50 for 0 up to 10 for 4
    assert chart.dots == [(20, 50), (65, 30), (110, 40)]
    assert chart.line == "20,50 65,50 65,30 110,30 110,40"
    assert (chart.left, chart.right, chart.bottom, chart.top) == (20, 110, 50, 10)


def test_step_chart_of_one_day_or_nothing_targeted_stays_in_the_frame():
    single = trajectory.step_chart([(date(2026, 3, 1), 3)], 3)
    assert single.dots == [(single.left, single.top)]
    assert single.line == f"{single.left:g},{single.top:g}"
    same_day = trajectory.step_chart([(date(2026, 3, 1), 0), (date(2026, 3, 1), 0)], 0)
    assert same_day.dots == [(same_day.left, same_day.bottom)] * 2
    assert dataclasses.asdict(trajectory.step_chart([], 2))["dots"] == []
