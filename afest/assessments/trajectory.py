"""How each competence block moved over time: the number of its competences acquired at each
moment a level was set (initial positioning, reflexive sequence, evaluation).

One query reads every level of the learner's protocols, whatever the number of sequences; the
moments are then folded in Python. `step_chart` turns a block's moments into the geometry of a
small SVG step line, which the template draws as it is.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, tzinfo
from functools import cache

from sqlalchemy import and_, bindparam, exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.models import (
    AssessmentSource,
    CompetenceAssessment,
    Evaluation,
    Level,
    Protocol,
    ProtocolCompetence,
    ProtocolStatus,
    Sequence,
)

# Moments of the same day: the positioning first, then the sequences, then the evaluations.
_ORDER = {AssessmentSource.INITIAL: 0, AssessmentSource.SEQUENCE: 1, AssessmentSource.EVALUATION: 2}


@dataclass(frozen=True)
class Moment:
    """A block's state right after one positioning, sequence or evaluation touched it."""

    on: date
    source: str  # an AssessmentSource value
    evaluation_kind: str  # "intermediate" or "final" for an evaluation, else ""
    acquired: int  # competences of the block whose latest level counts as acquired


@dataclass(frozen=True)
class StepChart:
    width: int
    height: int
    left: float  # x of the axis
    right: float  # x of the axis' end
    bottom: float  # y of 0
    top: float  # y of the highest value
    line: str  # points of the step line, for <polyline points="...">
    dots: list[tuple[float, float]]  # one per moment


@cache
def _query():
    newer = aliased(Sequence, name="newer_version")
    return (
        select(
            ProtocolCompetence.block_id,
            CompetenceAssessment.competence_id,
            CompetenceAssessment.source,
            CompetenceAssessment.protocol_id,
            CompetenceAssessment.sequence_id,
            CompetenceAssessment.evaluation_id,
            Level.acquired,
            Protocol.planned_start,
            Sequence.occurred_at,
            Evaluation.evaluated_on,
            Evaluation.kind,
        )
        .join(Level, Level.id == CompetenceAssessment.level_id)
        .join(Protocol, Protocol.id == CompetenceAssessment.protocol_id)
        .join(
            ProtocolCompetence,
            and_(
                ProtocolCompetence.protocol_id == CompetenceAssessment.protocol_id,
                ProtocolCompetence.competence_id == CompetenceAssessment.competence_id,
            ),
        )
        .outerjoin(Sequence, Sequence.id == CompetenceAssessment.sequence_id)
        .outerjoin(Evaluation, Evaluation.id == CompetenceAssessment.evaluation_id)
        # a sequence replaced by an amendment no longer counts (no sequence: always true)
        .where(
            Protocol.learner_id == bindparam("learner_id"),
            Protocol.status != ProtocolStatus.DRAFT,
            ~exists().where(newer.amends_id == Sequence.id),
        )
        .order_by(CompetenceAssessment.id)
    )


def block_moments(
    session: Session, learner_id: int, *, zone: tzinfo = UTC
) -> dict[int, list[Moment]]:
    """Per block id, its moments in time order, in one query. A sequence's day is read in
    `zone`; the positioning is dated at its protocol's planned start."""
    events: dict[tuple, dict] = {}
    for row in session.exec(_query(), params={"learner_id": learner_id}):
        block_id, comp_id, source, protocol_id, seq_id, eval_id, acquired, start, at, on, kind = row
        source = AssessmentSource(source)
        if source == AssessmentSource.SEQUENCE:
            key, day, tie = (source, seq_id), at.astimezone(zone).date(), at.astimezone(UTC)
        elif source == AssessmentSource.EVALUATION:
            key, day, tie = (source, eval_id), on, eval_id
        else:
            key, day, tie = (source, protocol_id), start, protocol_id
        event = events.setdefault(
            key, {"sort": (day, _ORDER[source], tie), "on": day, "kind": kind, "levels": []}
        )
        event["levels"].append((block_id, comp_id, bool(acquired)))
    held: dict[int, dict[int, bool]] = defaultdict(dict)  # block -> competence -> acquired
    moments: dict[int, list[Moment]] = defaultdict(list)
    for (source, _ref), event in sorted(events.items(), key=lambda item: item[1]["sort"]):
        touched = []
        for block_id, comp_id, acquired in event["levels"]:
            held[block_id][comp_id] = acquired
            if block_id not in touched:
                touched.append(block_id)
        kind = str(event["kind"]) if source == AssessmentSource.EVALUATION else ""
        for block_id in touched:
            count = sum(held[block_id].values())
            moments[block_id].append(Moment(event["on"], str(source), kind, count))
    return dict(moments)


def step_chart(
    points: list[tuple[date, int]],
    top: int,
    *,
    width: int = 320,
    height: int = 120,
    margin: tuple[int, int, int, int] = (10, 14, 26, 28),  # top, right, bottom, left
) -> StepChart:
    """Geometry of a step line through (day, value) points: x in proportion to the days
    (all at the left when there is only one day), y from 0 at the bottom to `top`."""
    m_top, m_right, m_bottom, m_left = margin
    bottom, ceiling = height - m_bottom, m_top
    span = (points[-1][0] - points[0][0]).days if points else 0

    def x(day: date) -> float:
        share = (day - points[0][0]).days / span if span else 0
        return round(m_left + share * (width - m_left - m_right), 1)

    def y(value: int) -> float:
        return round(bottom - (value / top if top else 0) * (bottom - ceiling), 1)

    dots = [(x(day), y(value)) for day, value in points]
    line: list[tuple[float, float]] = []
    for dot in dots:
        if line:
            line.append((dot[0], line[-1][1]))  # along at the previous value, then up or down
        line.append(dot)
    return StepChart(
        width=width,
        height=height,
        left=m_left,
        right=width - m_right,
        bottom=bottom,
        top=ceiling,
        line=" ".join(f"{px:g},{py:g}" for px, py in line),
        dots=dots,
    )
