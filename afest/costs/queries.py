"""Reads of the costs: a structure's hourly costs and the people they may price, a protocol's
other costs and evaluation times, and the facts the statement of expenses is computed from
(afest.proof.expenses), for one protocol or for the protocols of a structure over a period,
in a fixed number of queries whatever their number.

The statement prices rows one by one (each line is a sequence × the cost valid on its day),
so it reads plain rows, never ORM objects, and sums its lines itself."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo

from sqlalchemy import exists, or_
from sqlalchemy.orm import aliased, joinedload
from sqlmodel import Session, select

from afest.models import (
    Autonomy,
    Evaluation,
    EvaluationTime,
    HourlyCost,
    Organisation,
    OtherCost,
    Protocol,
    ProtocolStatus,
    Role,
    RoleAssignment,
    Sequence,
    Signature,
    SignedKind,
    SignerRole,
    User,
)
from afest.proof import expenses
from afest.protocols.pausing import day_of, start_of

COSTED_ROLES = (Role.LEARNER, Role.TUTOR)


# --- hourly costs -------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRow:
    """An hourly cost as its list shows it: whose (a person's name, or None for a default)."""

    cost: HourlyCost
    person: str | None


def managed_structures(session: Session, actor) -> list[Organisation]:
    """The structures whose costs the actor runs: those she manages."""
    ids = actor.orgs(Role.MANAGER) if actor.has(Role.MANAGER) else frozenset()
    if not ids:
        return []
    return list(
        session.exec(
            select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
        )
    )


def hourly_costs(session: Session, structure_id: int) -> list[CostRow]:
    """The structure's hourly costs: the defaults first, then each person's, latest first."""
    rows = session.exec(
        select(HourlyCost, User.full_name)
        .outerjoin(User, User.id == HourlyCost.user_id)
        .where(HourlyCost.structure_id == structure_id)
        .order_by(
            HourlyCost.user_id.is_not(None),
            HourlyCost.role,
            User.full_name,
            HourlyCost.user_id,
            HourlyCost.valid_from.desc(),
        )
    )
    return [CostRow(cost, name) for cost, name in rows]


def hourly_cost(session: Session, structure_id: int, public_id: str) -> HourlyCost | None:
    """One hourly cost of the structure, by its public id."""
    return session.exec(
        select(HourlyCost).where(
            HourlyCost.structure_id == structure_id, HourlyCost.public_id == public_id
        )
    ).first()


def costed_people(session: Session, structure_id: int) -> list[User]:
    """The structure's learners and tutors, whose hours a cost may price, by name."""
    return list(
        session.exec(
            select(User)
            .where(
                User.id.in_(
                    select(RoleAssignment.user_id).where(
                        RoleAssignment.organisation_id == structure_id,
                        RoleAssignment.role.in_(COSTED_ROLES),
                    )
                )
            )
            .order_by(User.full_name, User.id)
        )
    )


def rate_books(session: Session, structure_ids: list[int]) -> dict[int, expenses.RateBook]:
    """The hourly costs of each structure, as the statement looks them up."""
    found: dict[int, list[expenses.Rate]] = defaultdict(list)
    for row in session.exec(
        select(
            HourlyCost.structure_id,
            HourlyCost.user_id,
            HourlyCost.role,
            HourlyCost.valid_from,
            HourlyCost.valid_to,
            HourlyCost.cents_per_hour,
        ).where(HourlyCost.structure_id.in_(structure_ids))
    ):
        found[row[0]].append(expenses.Rate(*row[1:]))
    return {sid: expenses.RateBook(found.get(sid, [])) for sid in structure_ids}


# --- a protocol's other costs and evaluation times -----------------------------------------


def other_costs(session: Session, protocol_id: int) -> list[OtherCost]:
    return list(
        session.exec(
            select(OtherCost)
            .where(OtherCost.protocol_id == protocol_id)
            .order_by(OtherCost.spent_on, OtherCost.id)
        )
    )


def other_cost(session: Session, protocol_id: int, public_id: str) -> OtherCost | None:
    return session.exec(
        select(OtherCost).where(
            OtherCost.protocol_id == protocol_id, OtherCost.public_id == public_id
        )
    ).first()


@dataclass(frozen=True)
class TimedEvaluation:
    """A current evaluation of the protocol and the tutor's time declared for it, if any."""

    evaluation: Evaluation
    minutes: int | None


def current_evaluations(session: Session, protocol_id: int) -> list[TimedEvaluation]:
    """The protocol's current evaluations (no amendment replaces them), with their time."""
    newer = aliased(Evaluation)
    rows = session.exec(
        select(Evaluation, EvaluationTime.minutes)
        .outerjoin(EvaluationTime, EvaluationTime.evaluation_id == Evaluation.id)
        .where(
            Evaluation.protocol_id == protocol_id,
            ~exists().where(newer.amends_id == Evaluation.id),
        )
        .order_by(Evaluation.evaluated_on, Evaluation.id)
    )
    return [TimedEvaluation(evaluation, minutes) for evaluation, minutes in rows]


# --- the facts of the statement -----------------------------------------------------------


def _signatures(session: Session, ids: list[int]) -> dict[tuple[str, int], dict[str, int]]:
    """(kind, subject id) → {role: signer id} for the sequences and evaluations of these
    protocols, every version."""
    sequences = select(Sequence.id).where(Sequence.protocol_id.in_(ids))
    evaluations = select(Evaluation.id).where(Evaluation.protocol_id.in_(ids))
    signed: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    for kind, subject_id, role, signer_id in session.exec(
        select(
            Signature.subject_kind, Signature.subject_id, Signature.signer_role, Signature.signer_id
        ).where(
            or_(
                (Signature.subject_kind == SignedKind.SEQUENCE)
                & Signature.subject_id.in_(sequences),
                (Signature.subject_kind == SignedKind.EVALUATION)
                & Signature.subject_id.in_(evaluations),
            )
        )
    ):
        signed[(str(kind), subject_id)][str(role)] = signer_id
    return signed


def _work(kind, row, day, minutes, accompanied, signed, learner_id, superseded):
    return expenses.Work(
        public_id=row.public_id,
        kind=kind,
        day=day,
        minutes=minutes,
        accompanied=accompanied,
        signed=frozenset(signed),
        learner_id=learner_id,
        tutor_id=signed.get(str(SignerRole.TUTOR)),
        superseded=superseded,
    )


def works_of(
    session: Session, protocols: list[Protocol], zone: tzinfo
) -> dict[int, list[expenses.Work]]:
    """Every sequence and evaluation of these protocols, every version, as the statement
    reads them (a sequence's day in `zone`); four queries."""
    ids = [p.id for p in protocols]
    learner = {p.id: p.learner_id for p in protocols}
    signed = _signatures(session, ids)
    works: dict[int, list[expenses.Work]] = defaultdict(list)
    rows = list(
        session.exec(
            select(
                Sequence.id,
                Sequence.public_id,
                Sequence.protocol_id,
                Sequence.kind,
                Sequence.occurred_at,
                Sequence.duration_minutes,
                Sequence.autonomy,
                Sequence.amends_id,
            ).where(Sequence.protocol_id.in_(ids))
        )
    )
    replaced = {row.amends_id for row in rows if row.amends_id is not None}
    for row in rows:
        roles = signed.get((str(SignedKind.SEQUENCE), row.id), {})
        accompanied = row.autonomy == Autonomy.ACCOMPANIED
        day = day_of(row.occurred_at, zone)
        works[row.protocol_id].append(
            _work(
                str(row.kind),
                row,
                day,
                row.duration_minutes,
                accompanied,
                roles,
                learner[row.protocol_id],
                row.id in replaced,
            )
        )
    newer = aliased(Evaluation)
    for row in session.exec(
        select(
            Evaluation.id,
            Evaluation.public_id,
            Evaluation.protocol_id,
            Evaluation.evaluated_on,
            EvaluationTime.minutes,
            exists().where(newer.amends_id == Evaluation.id).label("replaced"),
        )
        .outerjoin(EvaluationTime, EvaluationTime.evaluation_id == Evaluation.id)
        .where(Evaluation.protocol_id.in_(ids))
    ):
        roles = signed.get((str(SignedKind.EVALUATION), row.id), {})
        works[row.protocol_id].append(
            _work(
                expenses.EVALUATION,
                row,
                row.evaluated_on,
                row.minutes,
                False,
                roles,
                learner[row.protocol_id],
                bool(row.replaced),
            )
        )
    return works


def spends_of(session: Session, ids: list[int]) -> dict[int, list[expenses.Spend]]:
    """The other costs of these protocols, as the statement reads them."""
    spends: dict[int, list[expenses.Spend]] = defaultdict(list)
    for cost in session.exec(select(OtherCost).where(OtherCost.protocol_id.in_(ids))):
        spends[cost.protocol_id].append(
            expenses.Spend(
                cost.public_id,
                cost.kind,
                cost.label,
                cost.spent_on,
                cost.amount_cents,
                cost.voucher,
            )
        )
    return spends


@dataclass
class Costed:
    """A protocol's statement, with the names its lines refer to."""

    protocol: Protocol
    statement: expenses.Statement
    names: dict[int, str] = field(default_factory=dict)

    def name(self, person_id: int | None) -> str:
        return self.names.get(person_id, "") if person_id is not None else ""


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(User.id, User.full_name).where(User.id.in_(ids))).all())


def statements(
    session: Session,
    protocols: list[Protocol],
    *,
    zone: tzinfo,
    period: expenses.Period | None = None,
) -> list[Costed]:
    """The statement of each protocol (over `period`, or its whole duration), in the order
    given; a fixed number of queries."""
    if not protocols:
        return []
    ids = [p.id for p in protocols]
    works = works_of(session, protocols, zone)
    spends = spends_of(session, ids)
    books = rate_books(session, sorted({p.structure_id for p in protocols}))
    result = []
    for p in protocols:
        statement = expenses.statement(
            works.get(p.id, []), spends.get(p.id, []), books[p.structure_id], period=period
        )
        result.append(Costed(p, statement))
    people = {line.person_id for c in result for line in c.statement.lines}
    # whose hours have no cost are named, for the manager to give them one
    people |= {left.person_id for c in result for left in c.statement.left}
    names = _names(session, {p for p in people if p is not None})
    for costed in result:
        costed.names = names
    return result


def protocol_statement(session: Session, protocol: Protocol, *, zone: tzinfo) -> Costed:
    """The statement of one protocol over its whole duration."""
    return statements(session, [protocol], zone=zone)[0]


@dataclass
class StructureStatement:
    """The statements of a structure's protocols that had something in the period."""

    structure: Organisation
    period: expenses.Period
    protocols: list[Costed]

    @property
    def total(self) -> expenses.Total:
        return expenses.Total.of(c.statement for c in self.protocols)


def structure_statement(
    session: Session, structure: Organisation, period: expenses.Period, *, zone: tzinfo
) -> StructureStatement:
    """The statement of each protocol of the structure with a sequence, an evaluation or
    another cost dated within the period (any version: what is left out says why)."""
    since = start_of(period.start, zone)
    until = start_of(period.end + timedelta(days=1), zone)
    active = or_(
        exists().where(
            Sequence.protocol_id == Protocol.id,
            Sequence.occurred_at >= since,
            Sequence.occurred_at < until,
        ),
        exists().where(
            Evaluation.protocol_id == Protocol.id,
            Evaluation.evaluated_on >= period.start,
            Evaluation.evaluated_on <= period.end,
        ),
        exists().where(
            OtherCost.protocol_id == Protocol.id,
            OtherCost.spent_on >= period.start,
            OtherCost.spent_on <= period.end,
        ),
    )
    protocols = list(
        session.exec(
            select(Protocol)
            .where(
                Protocol.structure_id == structure.id,
                Protocol.status != ProtocolStatus.DRAFT,
                active,
            )
            .options(joinedload(Protocol.learner))
            .order_by(Protocol.planned_start, Protocol.id)
        )
    )
    costed = statements(session, protocols, zone=zone, period=period)
    return StructureStatement(structure, period, costed)


def default_period(today: date) -> expenses.Period:
    """The period a statement opens on: the calendar year so far."""
    return expenses.Period(date(today.year, 1, 1), today)
