"""The reads behind what waits for whom (afest.todo.items): one statement per kind of item,
for many people at once, whatever their number. Those of the learners and tutors are here,
those of the managers and consultants in afest.todo.oversight.

`people` is None for everyone, else the user ids the rows are for: every statement filters
on it in SQL and returns one row per (person, subject), the person's id first. A protocol with
a pause open at `now` is left out of every statement. "Current" is what no amendment replaced;
a situation is analysed when a current reflection names it (ReflectionSituation), as the
compliance checks (afest.protocols.compliance) and the dashboards count it.

`reflection_deadlines` is the one definition of a reflexive window that the to-do lists, the
reminders and the calendar share: the window of REFLECTION_MAX_DAYS, moved by the pauses
(afest.protocols.pauses.deadline).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import and_, exists, literal, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from afest.models import (
    Evaluation,
    EvaluationKind,
    PlannedSequence,
    Protocol,
    ProtocolPause,
    ProtocolStatus,
    ProtocolTutor,
    ReflectionSituation,
    Role,
    RoleAssignment,
    Sequence,
    SequenceKind,
    Signature,
    SignedKind,
    SignerRole,
    User,
)
from afest.protocols.pauses import deadline

People = Iterable[int] | None


def aware(value: datetime | None) -> datetime | None:
    # Stored values are aware UTC; a naive value (raw SQL, old rows) is read as UTC.
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def among(column, people: People):
    """SQL: `column` is one of `people` (always true for everyone)."""
    return true() if people is None else column.in_(list(people))


def paused(now: datetime):
    """SQL: the protocol has a pause open at `now`."""
    return exists().where(
        ProtocolPause.protocol_id == Protocol.id,
        ProtocolPause.paused_from <= now,
        or_(ProtocolPause.resumed_at.is_(None), ProtocolPause.resumed_at > now),
    )


def current(model):
    newer = aliased(model)
    return ~exists().where(newer.amends_id == model.id)


def signed(kind: SignedKind, subject_id, role: SignerRole):
    return exists().where(
        Signature.subject_kind == kind,
        Signature.subject_id == subject_id,
        Signature.signer_role == role,
    )


def _analysed():
    """SQL: a current reflection analyses this situation (compliance condition 3)."""
    reflection = aliased(Sequence)
    return exists().where(
        ReflectionSituation.situation_id == Sequence.id,
        ReflectionSituation.reflection_id == reflection.id,
        current(reflection),
    )


def _designated(protocol_id, tutor_id):
    """SQL: `tutor_id` is a current designated tutor of the protocol and holds the role."""
    return and_(
        ProtocolTutor.protocol_id == protocol_id,
        ProtocolTutor.tutor_id == tutor_id,
        ProtocolTutor.ended_at.is_(None),
        exists().where(RoleAssignment.user_id == tutor_id, RoleAssignment.role == Role.TUTOR),
    )


# --- reflexive windows ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReflectionDeadline:
    """A current situation no current reflection analyses yet, and when its window closes
    (None while a pause freezes it)."""

    situation_public_id: str
    protocol_id: int
    occurred_at: datetime  # UTC
    deadline: datetime | None  # UTC


@dataclass(frozen=True)
class _Span:
    paused_from: datetime
    resumed_at: datetime | None


def window() -> timedelta:
    return timedelta(days=int(current_app.config.get("REFLECTION_MAX_DAYS", 7)))


def reflection_deadlines(
    session: Session, *, protocol_ids: Iterable[int] | sa.Select, now: datetime
) -> list[ReflectionDeadline]:
    """Each situation of `protocol_ids` (ids, or a SELECT of them) not analysed yet, oldest
    first, with its deadline as known at `now` (pauses begun by then; one not resumed by
    then is open): two queries, whatever the number of protocols."""
    among = protocol_ids if isinstance(protocol_ids, sa.Select) else list(protocol_ids)
    rows = session.exec(
        select(Sequence.public_id, Sequence.protocol_id, Sequence.occurred_at)
        .where(
            Sequence.protocol_id.in_(among),
            Sequence.kind == SequenceKind.SITUATION,
            current(Sequence),
            ~_analysed(),
        )
        .order_by(Sequence.occurred_at, Sequence.id)
    ).all()
    if not rows:
        return []
    spans: dict[int, list[_Span]] = defaultdict(list)
    for protocol_id, paused_from, resumed_at in session.exec(
        select(ProtocolPause.protocol_id, ProtocolPause.paused_from, ProtocolPause.resumed_at)
        .where(
            ProtocolPause.protocol_id.in_({r.protocol_id for r in rows}),
            ProtocolPause.paused_from <= now,
        )
        .order_by(ProtocolPause.paused_from, ProtocolPause.id)
    ):
        resumed = aware(resumed_at)
        spans[protocol_id].append(
            _Span(aware(paused_from), resumed if resumed and resumed <= now else None)
        )
    length = window()
    return [
        ReflectionDeadline(
            public_id,
            protocol_id,
            aware(occurred_at),
            deadline(aware(occurred_at), length, spans.get(protocol_id, ())),
        )
        for public_id, protocol_id, occurred_at in rows
    ]


# --- learner and tutor ----------------------------------------------------------------------


def protocols_to_sign(session: Session, *, people: People, now: datetime):
    """(person, role, protocol…) of the protocols awaiting the learner's or a designated
    tutor's signature."""
    awaiting = and_(Protocol.status == ProtocolStatus.AWAITING_SIGNATURES, ~paused(now))
    columns = (Protocol.public_id, Protocol.title, Protocol.planned_start)
    learner = select(Protocol.learner_id.label("person_id"), literal("learner"), *columns).where(
        awaiting,
        among(Protocol.learner_id, people),
        ~signed(SignedKind.PROTOCOL, Protocol.id, SignerRole.LEARNER),
    )
    tutor = (
        select(ProtocolTutor.tutor_id, literal("tutor"), *columns)
        .select_from(ProtocolTutor)
        .join(Protocol, _designated(Protocol.id, ProtocolTutor.tutor_id))
        .where(
            awaiting,
            among(ProtocolTutor.tutor_id, people),
            ~signed(SignedKind.PROTOCOL, Protocol.id, SignerRole.TUTOR),
        )
    )
    return session.exec(sa.union_all(learner, tutor)).all()


def _to_countersign(model, kind: SignedKind, *columns, people: People, now: datetime):
    return (
        select(Protocol.learner_id, model.public_id, *columns, Protocol.public_id, Protocol.title)
        .select_from(model)
        .join(Protocol, Protocol.id == model.protocol_id)
        .where(
            Protocol.status != ProtocolStatus.DRAFT,
            ~paused(now),
            among(Protocol.learner_id, people),
            current(model),
            signed(kind, model.id, SignerRole.TUTOR),
            ~signed(kind, model.id, SignerRole.LEARNER),
        )
    )


def sequences_to_countersign(session: Session, *, people: People, now: datetime):
    """(learner, sequence…, protocol…) of the current sequences her tutor signed, not her."""
    query = _to_countersign(
        Sequence, SignedKind.SEQUENCE, Sequence.kind, Sequence.occurred_at, people=people, now=now
    )
    return session.exec(query).all()


def evaluations_to_countersign(session: Session, *, people: People, now: datetime):
    """(learner, evaluation…, protocol…) of the current evaluations her tutor signed, not her."""
    query = _to_countersign(
        Evaluation,
        SignedKind.EVALUATION,
        Evaluation.kind,
        Evaluation.evaluated_on,
        people=people,
        now=now,
    )
    return session.exec(query).all()


def tutored(session: Session, *, people: People, now: datetime):
    """(tutor, protocol…, learner's name, has a final evaluation) of the protocols in progress
    each tutor is designated for."""
    learner = aliased(User)
    has_final = exists().where(
        Evaluation.protocol_id == Protocol.id, Evaluation.kind == EvaluationKind.FINAL
    )
    return session.exec(
        select(
            ProtocolTutor.tutor_id,
            Protocol.id,
            Protocol.public_id,
            Protocol.title,
            Protocol.planned_end,
            learner.full_name,
            has_final.label("has_final"),
        )
        .select_from(ProtocolTutor)
        .join(Protocol, _designated(Protocol.id, ProtocolTutor.tutor_id))
        .join(learner, learner.id == Protocol.learner_id)
        .where(
            Protocol.status == ProtocolStatus.IN_PROGRESS,
            ~paused(now),
            among(ProtocolTutor.tutor_id, people),
        )
    ).all()


def planned(session: Session, *, people: People, now: datetime, days: tuple[date, date]):
    """(tutor, planned sequence…, protocol…, learner's name) of the sequences planned on
    `days` (first and last, included) in the protocols in progress she tutors."""
    learner = aliased(User)
    return session.exec(
        select(
            ProtocolTutor.tutor_id,
            PlannedSequence.id,
            PlannedSequence.kind,
            PlannedSequence.planned_on,
            PlannedSequence.title,
            Protocol.public_id,
            Protocol.title.label("protocol_title"),
            learner.full_name,
        )
        .select_from(PlannedSequence)
        .join(Protocol, Protocol.id == PlannedSequence.protocol_id)
        .join(ProtocolTutor, _designated(Protocol.id, ProtocolTutor.tutor_id))
        .join(learner, learner.id == Protocol.learner_id)
        .where(
            Protocol.status == ProtocolStatus.IN_PROGRESS,
            ~paused(now),
            among(ProtocolTutor.tutor_id, people),
            PlannedSequence.planned_on.between(*days),
        )
    ).all()


def unsigned_sequences(session: Session, *, people: People, now: datetime):
    """(tutor, sequence…, protocol…, learner's name) of the current sequences a designated
    tutor logged and no tutor signed, in the protocols in progress."""
    learner = aliased(User)
    return session.exec(
        select(
            Sequence.created_by_id,
            Sequence.public_id,
            Sequence.kind,
            Sequence.occurred_at,
            Protocol.public_id,
            Protocol.title,
            learner.full_name,
        )
        .select_from(Sequence)
        .join(Protocol, Protocol.id == Sequence.protocol_id)
        .join(learner, learner.id == Protocol.learner_id)
        .where(
            Protocol.status == ProtocolStatus.IN_PROGRESS,
            ~paused(now),
            among(Sequence.created_by_id, people),
            exists().where(_designated(Protocol.id, Sequence.created_by_id)),
            current(Sequence),
            ~signed(SignedKind.SEQUENCE, Sequence.id, SignerRole.TUTOR),
        )
    ).all()
