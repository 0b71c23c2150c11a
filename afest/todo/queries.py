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
from functools import cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import and_, bindparam, exists, literal, or_, true
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


def among(column, everyone: bool):
    """SQL: `column` is one of the people bound as `people` (always true for everyone)."""
    return true() if everyone else column.in_(bindparam("people", expanding=True))


def paused():
    """SQL: the protocol has a pause open at the moment bound as `now`."""
    now = bindparam("now")
    return exists().where(
        ProtocolPause.protocol_id == Protocol.id,
        ProtocolPause.paused_from <= now,
        or_(ProtocolPause.resumed_at.is_(None), ProtocolPause.resumed_at > now),
    )


def run(session: Session, statement, people: People, **params) -> list:
    """The rows of a statement of the cached builders, for `people` (None: everyone)."""
    if people is not None:
        params["people"] = list(people)
    return session.exec(statement, params=params).all()


def current(model):
    """SQL: no amendment replaces this row (looked up by the partial index of amends_id, which
    holds only the rows that amend another)."""
    newer = aliased(model)
    return ~exists().where(newer.amends_id == model.id)


def signed(kind: SignedKind, subject_id, role: SignerRole):
    return exists().where(
        Signature.subject_kind == kind,
        Signature.subject_id == subject_id,
        Signature.signer_role == role,
    )


def held():
    """SQL: this evaluation counts for condition 4: current, and signed by the tutor (as
    afest.protocols.compliance counts it)."""
    return and_(current(Evaluation), signed(SignedKind.EVALUATION, Evaluation.id, SignerRole.TUTOR))


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


@cache
def _open_situations():
    """The current situations not analysed yet (of which protocols: reflection_deadlines),
    each with the pauses of its protocol begun by the moment bound as `now` (none: NULLs)."""
    return (
        select(
            Sequence.id,
            Sequence.public_id,
            Sequence.protocol_id,
            Sequence.occurred_at,
            ProtocolPause.paused_from,
            ProtocolPause.resumed_at,
        )
        .outerjoin(
            ProtocolPause,
            and_(
                ProtocolPause.protocol_id == Sequence.protocol_id,
                ProtocolPause.paused_from <= bindparam("now"),
            ),
        )
        .where(
            Sequence.kind == SequenceKind.SITUATION,
            current(Sequence),
            ~_analysed(),
        )
        .order_by(Sequence.occurred_at, Sequence.id, ProtocolPause.paused_from)
    )


def reflection_deadlines(
    session: Session, *, protocol_ids: Iterable[int] | sa.Select, now: datetime
) -> list[ReflectionDeadline]:
    """Each situation of `protocol_ids` (ids, or a SELECT of them, which may use the bound
    `now`) not analysed yet, oldest first, with its deadline as known at `now` (pauses begun
    by then; one not resumed by then is open): one query, whatever the number of
    protocols."""
    params = {"now": now}
    if isinstance(protocol_ids, sa.Select):
        chosen = Sequence.protocol_id.in_(protocol_ids)
    else:
        chosen = Sequence.protocol_id.in_(bindparam("ids", expanding=True))
        params["ids"] = list(protocol_ids)
        if not params["ids"]:
            return []
    situations: dict[int, tuple[str, int, datetime]] = {}
    spans: dict[int, list[_Span]] = defaultdict(list)
    for row in session.exec(_open_situations().where(chosen), params=params):
        situations.setdefault(row.id, (row.public_id, row.protocol_id, aware(row.occurred_at)))
        if row.paused_from is not None:
            resumed = aware(row.resumed_at)
            spans[row.id].append(
                _Span(aware(row.paused_from), resumed if resumed and resumed <= now else None)
            )
    length = window()
    return [
        ReflectionDeadline(public_id, protocol_id, at, deadline(at, length, spans[id_]))
        for id_, (public_id, protocol_id, at) in situations.items()
    ]


# --- learner and tutor ----------------------------------------------------------------------
# Each statement is built once per shape (everyone, or the people bound as `people`) with
# `now` bound at execution: building SQLAlchemy constructs costs more than running these
# small indexed queries for one person's home.


@cache
def _protocols_to_sign(everyone: bool):
    awaiting = and_(Protocol.status == ProtocolStatus.AWAITING_SIGNATURES, ~paused())
    columns = (Protocol.public_id, Protocol.title, Protocol.planned_start)
    learner = select(Protocol.learner_id.label("person_id"), literal("learner"), *columns).where(
        awaiting,
        among(Protocol.learner_id, everyone),
        ~signed(SignedKind.PROTOCOL, Protocol.id, SignerRole.LEARNER),
    )
    tutor = (
        select(ProtocolTutor.tutor_id, literal("tutor"), *columns)
        .select_from(ProtocolTutor)
        .join(Protocol, _designated(Protocol.id, ProtocolTutor.tutor_id))
        .where(
            awaiting,
            among(ProtocolTutor.tutor_id, everyone),
            ~signed(SignedKind.PROTOCOL, Protocol.id, SignerRole.TUTOR),
        )
    )
    return sa.union_all(learner, tutor)


def protocols_to_sign(session: Session, *, people: People, now: datetime):
    """(person, role, protocol…) of the protocols awaiting the learner's or a designated
    tutor's signature."""
    return run(session, _protocols_to_sign(people is None), people, now=now)


@cache
def _to_countersign(model, kind: SignedKind, everyone: bool):
    extra = (
        (model.kind, model.occurred_at) if model is Sequence else (model.kind, model.evaluated_on)
    )
    return (
        select(Protocol.learner_id, model.public_id, *extra, Protocol.public_id, Protocol.title)
        .select_from(Protocol)
        .join(model, model.protocol_id == Protocol.id)
        .where(
            Protocol.status != ProtocolStatus.DRAFT,
            ~paused(),
            among(Protocol.learner_id, everyone),
            current(model),
            signed(kind, model.id, SignerRole.TUTOR),
            ~signed(kind, model.id, SignerRole.LEARNER),
        )
    )


def sequences_to_countersign(session: Session, *, people: People, now: datetime):
    """(learner, sequence…, protocol…) of the current sequences her tutor signed, not her."""
    statement = _to_countersign(Sequence, SignedKind.SEQUENCE, people is None)
    return run(session, statement, people, now=now)


def evaluations_to_countersign(session: Session, *, people: People, now: datetime):
    """(learner, evaluation…, protocol…) of the current evaluations her tutor signed, not her."""
    statement = _to_countersign(Evaluation, SignedKind.EVALUATION, people is None)
    return run(session, statement, people, now=now)


@cache
def _tutored(everyone: bool):
    learner = aliased(User)
    has_final = exists().where(
        Evaluation.protocol_id == Protocol.id, Evaluation.kind == EvaluationKind.FINAL, held()
    )
    return (
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
            ~paused(),
            among(ProtocolTutor.tutor_id, everyone),
        )
    )


def tutored(session: Session, *, people: People, now: datetime):
    """(tutor, protocol…, learner's name, has a final evaluation) of the protocols in progress
    each tutor is designated for."""
    return run(session, _tutored(people is None), people, now=now)


@cache
def _planned(everyone: bool):
    learner = aliased(User)
    return (
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
        .select_from(ProtocolTutor)
        .join(Protocol, _designated(Protocol.id, ProtocolTutor.tutor_id))
        .join(PlannedSequence, PlannedSequence.protocol_id == Protocol.id)
        .join(learner, learner.id == Protocol.learner_id)
        .where(
            Protocol.status == ProtocolStatus.IN_PROGRESS,
            ~paused(),
            among(ProtocolTutor.tutor_id, everyone),
            PlannedSequence.planned_on.between(bindparam("first"), bindparam("last")),
        )
    )


def planned(session: Session, *, people: People, now: datetime, days: tuple[date, date]):
    """(tutor, planned sequence…, protocol…, learner's name) of the sequences planned on
    `days` (first and last, included) in the protocols in progress she tutors."""
    first, last = days
    return run(session, _planned(people is None), people, now=now, first=first, last=last)


@cache
def _unsigned(everyone: bool):
    learner = aliased(User)
    return (
        select(
            ProtocolTutor.tutor_id,
            Sequence.public_id,
            Sequence.kind,
            Sequence.occurred_at,
            Protocol.public_id,
            Protocol.title,
            learner.full_name,
        )
        .select_from(ProtocolTutor)
        .join(Protocol, _designated(Protocol.id, ProtocolTutor.tutor_id))
        .join(
            Sequence,
            and_(
                Sequence.protocol_id == Protocol.id,
                Sequence.created_by_id == ProtocolTutor.tutor_id,
            ),
        )
        .join(learner, learner.id == Protocol.learner_id)
        .where(
            Protocol.status == ProtocolStatus.IN_PROGRESS,
            ~paused(),
            among(ProtocolTutor.tutor_id, everyone),
            current(Sequence),
            ~signed(SignedKind.SEQUENCE, Sequence.id, SignerRole.TUTOR),
        )
    )


def unsigned_sequences(session: Session, *, people: People, now: datetime):
    """(tutor, sequence…, protocol…, learner's name) of the current sequences a designated
    tutor logged and no tutor signed, in the protocols in progress (found from her
    designations, then each protocol's sequences: sequences have no index on their author)."""
    return run(session, _unsigned(people is None), people, now=now)
