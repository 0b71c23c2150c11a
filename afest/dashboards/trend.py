"""The monthly trend of a dashboard as the shapes of an SVG chart: the protocols started each
month and, below on the same months, the hours done against the hours planned of those
protocols. Pure geometry, rows in and shapes out (board.months.rows: key yyyymm, label,
values, hidden); templates/dashboards/_charts.html draws them, the same figures following
in a table.

Across the chart, positions are in percent of its width, and down it in pixels: the SVG
fills the width of a phone or of a desktop and its text keeps its size on both.

The months run from the first to the last of the rows, a month with no row counting 0 (no
protocol started then). A hidden month (a small cell) is drawn hatched, never with its
value, and the scales are set by the visible months only: the chart tells nothing the
table does not."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from afest.dashboards.queries import month_label

LEFT, RIGHT = 9.0, 99.0  # the plot, in percent of the width (the axis' values on the left)
TITLE = 34  # px above each panel: its title, then room for the count of the highest bar
PANEL = 80  # px, the height of each panel
AXIS = 40  # px below the panels for the months and their years
COUNT_BASE = TITLE + PANEL  # the baseline of the protocols' panel
HOURS_BASE = 2 * (TITLE + PANEL)  # the baseline of the hours' panel
HEIGHT = HOURS_BASE + AXIS
MAX_NAMED = 8  # months named under the axis at most (a phone's width); beyond, one in a few
MAX_VALUES = 12  # beyond this many months, no count is written above the bars


@dataclass(frozen=True)
class Month:
    """One month of the trend; its figures are None when the month is hidden."""

    key: int  # yyyymm
    label: str
    hidden: bool
    protocols: int | None
    done_minutes: int | None
    planned_minutes: int | None

    @property
    def first_day(self) -> date:
        return date(self.key // 100, self.key % 100, 1)


@dataclass(frozen=True)
class Box:
    x: float  # percent
    y: float  # px
    width: float  # percent
    height: float  # px


def _box(x: float, y: float, width: float, height: float) -> Box:
    """A box rounded as it is drawn: to a hundredth of a percent across, a tenth of a pixel
    down (the template writes the figures as they are)."""
    return Box(round(x, 2), round(y, 1), round(width, 2), round(height, 1))


@dataclass(frozen=True)
class Column:
    """A month's place in the chart: its bars (None when hidden) or the hatched boxes that
    stand for it when hidden, whether its month and its year are written under the axis,
    and where its count is written (None: not written)."""

    month: Month
    centre: float  # percent
    count: Box | None  # protocols started
    planned: Box | None  # hours planned (the wide, pale bar)
    done: Box | None  # hours done (the narrow, dark bar over it)
    masked: tuple[Box, Box] | None
    named: bool
    year: bool
    value_y: float | None


@dataclass(frozen=True)
class Tick:
    y: float  # px
    value: int


@dataclass(frozen=True)
class Trend:
    months: list[Month]
    columns: list[Column]
    count_ticks: list[Tick]
    hours_ticks: list[Tick]  # in hours
    any_hidden: bool
    left: float = LEFT
    right: float = RIGHT
    count_base: int = COUNT_BASE
    hours_base: int = HOURS_BASE
    count_title_y: int = 14
    hours_title_y: int = COUNT_BASE + 20
    month_y: int = HOURS_BASE + 16
    year_y: int = HOURS_BASE + 32
    height: int = HEIGHT


def _next_month(key: int) -> int:
    year, month = divmod(key, 100)
    return (year + 1) * 100 + 1 if month == 12 else key + 1


def months(rows: Iterable) -> list[Month]:
    """The months from the first row to the last, in order; a month with no row is a month
    with nothing started (0), a hidden row stays hidden, without its figures."""
    by_key = {int(r.key): r for r in rows}
    if not by_key:
        return []
    found, key, last = [], min(by_key), max(by_key)
    while key <= last:
        row = by_key.get(key)
        if row is None:
            found.append(Month(key, month_label(key), False, 0, 0, 0))
        elif row.hidden:
            found.append(Month(key, row.label, True, None, None, None))
        else:
            values = (row.get("protocols"), row.get("done_minutes"), row.get("planned_minutes"))
            found.append(Month(key, row.label, False, *values))
        key = _next_month(key)
    return found


def nice_top(value: float) -> tuple[int, int]:
    """(top, step) of an axis that holds `value`: a whole step of 1, 2 or 5 times a power of
    ten, at most four steps up to the top."""
    if value <= 0:
        return 1, 1
    step = 10 ** max(0, math.floor(math.log10(value / 2)))
    for factor in (1, 2, 5, 10):
        if value / (step * factor) <= 4:
            step *= factor
            break
    return step * math.ceil(value / step), step


def _ticks(top: int, step: int, base: int) -> list[Tick]:
    return [Tick(round(base - PANEL * v / top, 1), v) for v in range(0, top + 1, step)]


def _height(value: float, top: int) -> float:
    return round(PANEL * value / top, 1)


def chart(rows: Iterable) -> Trend | None:
    """The shapes of the trend of `rows`, or None when there is no month to draw."""
    found = months(rows)
    if not found:
        return None
    shown = [m for m in found if not m.hidden]
    count_top, count_step = nice_top(max((m.protocols for m in shown), default=0))
    hours = [max(m.planned_minutes, m.done_minutes) / 60 for m in shown]
    hours_top, hours_step = nice_top(max(hours, default=0))
    slot = (RIGHT - LEFT) / len(found)
    wide, narrow = slot * 0.6, slot * 0.3
    every = math.ceil(len(found) / MAX_NAMED)
    columns, last_year = [], None
    for i, m in enumerate(found):
        centre = LEFT + slot * (i + 0.5)
        x = centre - wide / 2
        named = i % every == 0
        year = named and m.key // 100 != last_year
        last_year = m.key // 100 if named else last_year
        if m.hidden:
            masked = (_box(x, TITLE, wide, PANEL), _box(x, COUNT_BASE + TITLE, wide, PANEL))
            columns.append(Column(m, round(centre, 2), None, None, None, masked, named, year, None))
            continue
        high = _height(m.protocols, count_top)
        planned = _height(m.planned_minutes / 60, hours_top)
        done = _height(m.done_minutes / 60, hours_top)
        columns.append(
            Column(
                m,
                round(centre, 2),
                _box(x, COUNT_BASE - high, wide, high),
                _box(x, HOURS_BASE - planned, wide, planned),
                _box(centre - narrow / 2, HOURS_BASE - done, narrow, done),
                None,
                named,
                year,
                round(COUNT_BASE - high - 4, 1) if len(found) <= MAX_VALUES else None,
            )
        )
    return Trend(
        found,
        columns,
        _ticks(count_top, count_step, COUNT_BASE) if shown else [],  # no scale for no figure
        _ticks(hours_top, hours_step, HOURS_BASE) if shown else [],
        any(m.hidden for m in found),
    )
