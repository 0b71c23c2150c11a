"""The rule by which a pause lengthens a reflexive window."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from afest.protocols.pauses import deadline, is_paused

WEEK = timedelta(days=7)


@dataclass
class Span:
    paused_from: datetime
    resumed_at: datetime | None


def day(n: int, hour: int = 9) -> datetime:
    return datetime(2026, 12, n, hour, tzinfo=UTC)


def test_without_pause_the_window_is_the_legal_delay():
    assert deadline(day(1), WEEK, []) == day(8)


def test_a_pause_inside_the_window_lengthens_it_by_its_length():
    assert deadline(day(1), WEEK, [Span(day(3), day(6))]) == day(11)


def test_a_pause_begun_before_the_situation_counts_only_from_the_situation():
    assert deadline(day(2), WEEK, [Span(day(1), day(4))]) == day(11)


def test_a_pause_after_the_window_closed_changes_nothing():
    assert deadline(day(1), WEEK, [Span(day(8), day(12))]) == day(8)
    assert deadline(day(1), WEEK, [Span(day(10), None)]) == day(8)


def test_a_pause_that_starts_inside_the_lengthened_window_lengthens_it_again():
    # the first pause pushes the end from the 8th to the 10th; the second starts on the 9th
    spans = [Span(day(9), day(11)), Span(day(2), day(4))]
    assert deadline(day(1), WEEK, spans) == day(12)


def test_an_open_pause_freezes_the_window():
    assert deadline(day(1), WEEK, [Span(day(5), None)]) is None


def test_a_pause_ended_before_the_situation_changes_nothing():
    assert deadline(day(5), WEEK, [Span(day(1), day(3))]) == day(12)


def test_is_paused_covers_from_start_to_resumption():
    spans = [Span(day(3), day(6))]
    assert not is_paused(spans, day(2))
    assert is_paused(spans, day(3))
    assert is_paused(spans, day(5))
    assert not is_paused(spans, day(6))
    assert is_paused([Span(day(3), None)], day(20))
