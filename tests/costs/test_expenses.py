"""The computation of the statement of expenses (afest.proof.expenses) on plain facts, and
the amounts as people type them (afest.costs.money)."""

from __future__ import annotations

from datetime import date

import pytest

from afest.costs import money
from afest.models import CostRole, OtherCostKind
from afest.proof import expenses
from afest.proof.expenses import EVALUATION, Period, Rate, RateBook, Reason, Spend, Work

D = date(2026, 3, 2)
BOTH = frozenset({"tutor", "learner"})


def work(kind="situation", day=D, minutes=60, *, accompanied=True, signed=BOTH, superseded=False):
    return Work(
        public_id=f"{kind}-{day}-{minutes}",
        kind=kind,
        day=day,
        minutes=minutes,
        accompanied=accompanied,
        signed=signed,
        learner_id=1,
        tutor_id=2,
        superseded=superseded,
    )


def book(*rates) -> RateBook:
    return RateBook(rates)


LEARNER = Rate(None, CostRole.LEARNER, date(2026, 1, 1), None, 1500)
TUTOR = Rate(None, CostRole.TUTOR, date(2026, 1, 1), None, 2400)


@pytest.mark.parametrize(
    ("minutes", "cents_per_hour", "cents"),
    [(60, 1850, 1850), (45, 2275, 1706), (90, 2275, 3413), (50, 1620, 1350), (1, 1, 0), (30, 1, 1)],
)
def test_a_line_is_rounded_to_the_cent_half_up(minutes, cents_per_hour, cents):
    assert expenses.cost_of(minutes, cents_per_hour) == cents


def test_a_person_s_own_cost_comes_before_the_default_of_her_role():
    own = Rate(1, None, date(2026, 3, 1), date(2026, 3, 31), 1700)
    rates = book(LEARNER, own)
    assert rates.find(1, CostRole.LEARNER, D) is own
    assert rates.find(1, CostRole.LEARNER, date(2026, 4, 1)) is LEARNER
    assert rates.find(1, CostRole.TUTOR, D) is own  # her cost, whatever her role
    assert rates.find(9, CostRole.TUTOR, D) is None
    assert rates.find(1, CostRole.LEARNER, date(2025, 12, 31)) is None


def test_whose_hours_each_sequence_counts():
    st = expenses.statement(
        [
            work("situation", accompanied=True),
            work("situation", minutes=30, accompanied=False),
            work("reflection", minutes=45),
            work(EVALUATION, minutes=20),
        ],
        [],
        book(LEARNER, TUTOR),
    )
    assert st.learner_minutes == 60 + 30 + 45  # not the evaluation
    assert st.tutor_minutes == 60 + 45 + 20  # not the situation alone
    assert st.tutor_cents == sum(expenses.cost_of(m, 2400) for m in (60, 45, 20))
    assert st.learner_cents == sum(expenses.cost_of(m, 1500) for m in (60, 30, 45))


def test_what_is_left_out_says_why():
    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    st = expenses.statement(
        [
            work(day=date(2026, 2, 27)),
            work(superseded=True, minutes=61),
            work(signed=frozenset({"tutor"}), minutes=62),
            work(EVALUATION, minutes=None),
            work("reflection", minutes=63),
        ],
        [
            Spend("a", OtherCostKind.OTHER, "avant", date(2026, 2, 1), 1000),
            Spend("b", OtherCostKind.OTHER, "pendant", D, 2000),
        ],
        book(LEARNER),  # no tutor cost
        period=period,
    )
    reasons = sorted(str(left.reason) for left in st.left)
    assert reasons == sorted(
        [
            Reason.OUTSIDE_PERIOD,
            Reason.AMENDED,
            Reason.UNSIGNED,
            Reason.NO_DURATION,
            Reason.NO_RATE,  # the reflection's tutor hours
            Reason.OUTSIDE_PERIOD,  # the cost of February
        ]
    )
    assert [(ln.role, ln.minutes) for ln in st.lines] == [(CostRole.LEARNER, 63)]
    assert st.other_cents == 2000
    assert st.total_cents == expenses.cost_of(63, 1500) + 2000


def test_an_amended_version_outside_the_period_is_said_outside():
    period = Period(date(2026, 3, 10), date(2026, 3, 31))
    st = expenses.statement([work(superseded=True)], [], book(LEARNER), period=period)
    assert [left.reason for left in st.left] == [Reason.OUTSIDE_PERIOD]


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("18,50", 1850),
        ("18.5", 1850),
        ("18", 1800),
        ("1 234,56", 123456),
        ("1\u202f234,56 €", 123456),
        ("1.234,5", 123450),
        (" 7 EUR ", 700),
    ],
)
def test_amounts_typed_in_french(typed, cents):
    assert money.parse_cents(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "-3", "18,505", "1,2,3", "18 $", "1e3", "١٢"])
def test_what_is_not_an_amount(typed):
    with pytest.raises(ValueError):
        money.parse_cents(typed)


def test_amounts_shown_and_typed_back(app):
    assert money.typed(1850) == "18,50" and money.typed(5) == "0,05"
    with app.test_request_context():
        assert money.shown(123456).replace("\u202f", " ").replace("\u00a0", " ") == "1 234,56 €"
