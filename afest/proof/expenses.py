"""The employer's statement of expenses (état des dépenses) of an in-house AFEST, computed
from plain facts: no database, no request (afest.costs.queries reads the facts).

What counts, for one protocol:

- a sequence or an evaluation counts when it is current (no amendment replaces it), when
  those whose signatures make hours count have signed it (compliance.HOURS_SIGNERS, the rule
  of the certificat de réalisation) and, for a statement over a period, when its day falls
  within the period;
- the learner's hours are those of her situations (accompanied or alone) and reflexive
  sequences; the tutor's, those of the situations she accompanied, the reflexive sequences
  and the evaluations (for these, the duration the employer declared);
- each hour is priced at the hourly cost valid on its day: the person's own if one is
  valid then, else the structure's default for her role. A line is the minutes of one
  person on one sequence × that cost, rounded to the cent (half up); subtotals and totals
  are sums of lines, so that every figure can be checked by hand;
- the other costs of the protocol count when dated within the period.

Whatever does not count is listed with its reason (Reason), so that the statement says what
it leaves out and why.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from afest.models import CostRole, OtherCostKind, SequenceKind
from afest.protocols.compliance import HOURS_SIGNERS

EVALUATION = "evaluation"  # the kind of a Work that is an evaluation, beside SequenceKind's


class Reason(enum.StrEnum):
    """Why a sequence, an evaluation, a person's hours or a cost is left out."""

    AMENDED = "amended"  # replaced by a correction: the correction is what counts
    OUTSIDE_PERIOD = "outside_period"
    UNSIGNED = "unsigned"  # not signed by both the tutor and the learner
    NO_DURATION = "no_duration"  # an evaluation whose duration nobody declared
    NO_RATE = "no_rate"  # no hourly cost valid on that day for that person


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both included."""

    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Rate:
    """An hourly cost: a person's (`user_id`) or a default for a role, over its validity."""

    user_id: int | None
    role: CostRole | None
    valid_from: date
    valid_to: date | None
    cents_per_hour: int

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class RateBook:
    """The hourly costs of one structure, to find the one valid for a person on a day."""

    def __init__(self, rates: Iterable[Rate]):
        self.by_person: dict[int, list[Rate]] = {}
        self.by_role: dict[CostRole, list[Rate]] = {}
        for rate in rates:
            if rate.user_id is not None:
                self.by_person.setdefault(rate.user_id, []).append(rate)
            elif rate.role is not None:
                self.by_role.setdefault(rate.role, []).append(rate)

    def find(self, user_id: int, role: CostRole, day: date) -> Rate | None:
        """The person's own cost valid on `day`, else the default of her role, else None."""
        for rate in self.by_person.get(user_id, []):
            if rate.covers(day):
                return rate
        for rate in self.by_role.get(role, []):
            if rate.covers(day):
                return rate
        return None


@dataclass(frozen=True)
class Work:
    """A sequence or an evaluation as the statement reads it."""

    public_id: str
    kind: str  # SequenceKind, or EVALUATION
    day: date  # in the platform's time zone
    minutes: int | None  # None: an evaluation whose duration was not declared
    accompanied: bool  # a situation the tutor accompanied
    signed: frozenset[str]  # the roles that signed it
    learner_id: int
    tutor_id: int | None  # who signed it as tutor
    superseded: bool  # an amendment replaces it


@dataclass(frozen=True)
class Spend:
    """Another cost of the protocol."""

    public_id: str
    kind: OtherCostKind
    label: str
    day: date
    cents: int
    voucher: str = ""


@dataclass(frozen=True)
class Line:
    """The minutes of one person on one sequence or evaluation, priced."""

    work: Work
    role: CostRole
    person_id: int
    minutes: int
    cents_per_hour: int

    @property
    def cents(self) -> int:
        return cost_of(self.minutes, self.cents_per_hour)


@dataclass(frozen=True)
class Left:
    """What does not count, and why: a whole sequence or evaluation (`role` None), the
    hours of one person on it (`role`, `person_id`), or another cost (`spend`)."""

    reason: Reason
    work: Work | None = None
    role: CostRole | None = None
    person_id: int | None = None
    minutes: int | None = None
    spend: Spend | None = None


@dataclass
class Statement:
    """The statement of one protocol (over a period, or its whole duration)."""

    period: Period | None
    lines: list[Line] = field(default_factory=list)
    spends: list[Spend] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)

    def minutes(self, role: CostRole) -> int:
        return sum(line.minutes for line in self.lines if line.role == role)

    def cents(self, role: CostRole) -> int:
        return sum(line.cents for line in self.lines if line.role == role)

    @property
    def learner_minutes(self) -> int:
        return self.minutes(CostRole.LEARNER)

    @property
    def tutor_minutes(self) -> int:
        return self.minutes(CostRole.TUTOR)

    @property
    def learner_cents(self) -> int:
        return self.cents(CostRole.LEARNER)

    @property
    def tutor_cents(self) -> int:
        return self.cents(CostRole.TUTOR)

    @property
    def other_cents(self) -> int:
        return sum(s.cents for s in self.spends)

    @property
    def total_cents(self) -> int:
        return self.learner_cents + self.tutor_cents + self.other_cents

    @property
    def empty(self) -> bool:
        return not self.lines and not self.spends


def cost_of(minutes: int, cents_per_hour: int) -> int:
    """minutes × cost per hour, in cents rounded half up (positive figures only)."""
    return (minutes * cents_per_hour * 2 + 60) // 120


def minutes_of(work: Work, role: CostRole) -> int:
    """The minutes of `work` that count for `role`: the learner's in every situation and
    reflexive sequence; the tutor's in the situations she accompanied, the reflexive
    sequences and the evaluations."""
    if work.kind == SequenceKind.SITUATION:
        counts = role == CostRole.LEARNER or work.accompanied
    elif work.kind == SequenceKind.REFLECTION:
        counts = True
    else:
        counts = role == CostRole.TUTOR
    return (work.minutes or 0) if counts else 0


def _whole_reason(work: Work, period: Period | None) -> Reason | None:
    """Why the whole of `work` is left out, if it is; the first reason found in this order:
    outside the period (another period's statement says the rest), replaced by a
    correction, unsigned, without a duration."""
    if period is not None and work.day not in period:
        return Reason.OUTSIDE_PERIOD
    if work.superseded:
        return Reason.AMENDED
    if not work.signed >= HOURS_SIGNERS:
        return Reason.UNSIGNED
    if work.minutes is None:
        return Reason.NO_DURATION
    return None


def _person(work: Work, role: CostRole) -> int | None:
    return work.learner_id if role == CostRole.LEARNER else work.tutor_id


def statement(
    works: Iterable[Work],
    spends: Iterable[Spend],
    rates: RateBook,
    *,
    period: Period | None = None,
) -> Statement:
    """The statement of one protocol from its sequences and evaluations (every version),
    its other costs and its structure's hourly costs."""
    result = Statement(period)
    for work in sorted(works, key=lambda w: (w.day, w.kind != EVALUATION, w.public_id)):
        reason = _whole_reason(work, period)
        if reason is not None:
            result.left.append(Left(reason, work=work, minutes=work.minutes))
            continue
        for role in (CostRole.LEARNER, CostRole.TUTOR):
            minutes, person = minutes_of(work, role), _person(work, role)
            if not minutes or person is None:
                continue
            rate = rates.find(person, role, work.day)
            if rate is None:
                result.left.append(
                    Left(Reason.NO_RATE, work=work, role=role, person_id=person, minutes=minutes)
                )
                continue
            result.lines.append(Line(work, role, person, minutes, rate.cents_per_hour))
    for spend in sorted(spends, key=lambda s: (s.day, s.public_id)):
        if period is not None and spend.day not in period:
            result.left.append(Left(Reason.OUTSIDE_PERIOD, spend=spend))
        else:
            result.spends.append(spend)
    return result


@dataclass
class Total:
    """The sums of several statements (a structure over a period)."""

    learner_minutes: int = 0
    learner_cents: int = 0
    tutor_minutes: int = 0
    tutor_cents: int = 0
    other_cents: int = 0

    @property
    def total_cents(self) -> int:
        return self.learner_cents + self.tutor_cents + self.other_cents

    @classmethod
    def of(cls, statements: Iterable[Statement]) -> Total:
        total = cls()
        for s in statements:
            total.learner_minutes += s.learner_minutes
            total.learner_cents += s.learner_cents
            total.tutor_minutes += s.tutor_minutes
            total.tutor_cents += s.tutor_cents
            total.other_cents += s.other_cents
        return total
