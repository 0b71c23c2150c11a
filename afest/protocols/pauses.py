"""How a pause moves a protocol's deadlines: the one rule the compliance panel, the to-do
lists, the reminders and the calendar all use.

A reflexive window opens when a situation occurs and lasts REFLECTION_MAX_DAYS. Every pause
that overlaps the window lengthens it by the overlap; while a pause is still open, the window
is frozen and has no end yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol as Shape


class PauseSpan(Shape):
    paused_from: datetime
    resumed_at: datetime | None


def deadline(
    opened_at: datetime, window: timedelta, pauses: Iterable[PauseSpan]
) -> datetime | None:
    """When a window opened at `opened_at` closes, once lengthened by the pauses; None while
    a pause that began before it closed is still open."""
    closes = opened_at + window
    for pause in sorted(pauses, key=lambda p: p.paused_from):
        if pause.paused_from >= closes:
            break
        if pause.resumed_at is None:
            return None
        overlap_from = max(pause.paused_from, opened_at)
        if pause.resumed_at > overlap_from:
            closes += pause.resumed_at - overlap_from
    return closes


def is_paused(pauses: Iterable[PauseSpan], at: datetime) -> bool:
    """Whether one of the pauses covers the moment `at`."""
    return any(p.paused_from <= at and (p.resumed_at is None or at < p.resumed_at) for p in pauses)
