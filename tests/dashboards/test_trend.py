"""The monthly trend's geometry: months filled between the first and the last, scales set by
the visible months only, a hidden month drawn without its value."""

from __future__ import annotations

import pytest

from afest.dashboards import trend
from afest.dashboards.board import Row
from afest.dashboards.queries import month_label


def row(key: int, protocols: int, done: int = 0, planned: int = 0, hidden: bool = False) -> Row:
    values = {"protocols": protocols, "done_minutes": done, "planned_minutes": planned}
    return Row(key, month_label(key), values, hidden=hidden)


def test_no_month_no_chart():
    assert trend.chart([]) is None


def test_the_months_between_are_counted_zero_across_a_new_year():
    found = trend.months([row(202611, 4, 60, 120), row(202702, 2)])
    assert [m.label for m in found] == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert [m.protocols for m in found] == [4, 0, 0, 2]
    assert found[1].hidden is False and found[1].planned_minutes == 0


def test_a_hidden_month_keeps_no_figure_and_is_drawn_hatched():
    chart = trend.chart([row(202605, 30, 600, 900), row(202606, 2, 60, 60, hidden=True)])
    hidden = chart.columns[1]
    assert (hidden.month.protocols, hidden.month.done_minutes) == (None, None)
    assert hidden.count is hidden.planned is hidden.done is hidden.value_y is None
    assert hidden.masked is not None and chart.any_hidden


def test_what_a_hidden_month_holds_changes_nothing_drawn():
    """Its figures could be read back from a scale or a bar: they set neither."""
    small = trend.chart([row(202605, 3, 60, 120), row(202606, 2, 30, 60, hidden=True)])
    large = trend.chart([row(202605, 3, 60, 120), row(202606, 900, 9e5, 9e5, hidden=True)])
    assert small == large
    assert [t.value for t in small.count_ticks] == [0, 1, 2, 3]


def test_the_highest_visible_month_reaches_the_top_of_its_scale():
    chart = trend.chart([row(202605, 30, 21405, 25200), row(202607, 9, 1530, 7560)])
    first, _gap, third = chart.columns
    tenth = {"abs": 0.05}  # drawn to a tenth of a pixel
    assert first.count.height == pytest.approx(trend.PANEL, **tenth)  # 30 on a scale up to 30
    assert third.count.height == pytest.approx(trend.PANEL * 9 / 30, **tenth)
    assert [t.value for t in chart.hours_ticks] == [0, 200, 400, 600]  # 420 h planned
    assert first.planned.height == pytest.approx(trend.PANEL * 420 / 600, **tenth)
    assert first.done.height == pytest.approx(trend.PANEL * 356.75 / 600, **tenth)
    # the bars stand on their axis
    assert first.count.y + first.count.height == pytest.approx(chart.count_base)
    assert first.done.y + first.done.height == pytest.approx(chart.hours_base)


def test_only_hidden_months_draw_no_scale():
    chart = trend.chart([row(202610, 2, hidden=True), row(202611, 5, hidden=True)])
    assert chart.count_ticks == [] and chart.hours_ticks == []
    assert all(c.masked for c in chart.columns)


def test_columns_share_the_plot_and_long_trends_name_one_month_in_a_few():
    chart = trend.chart([row(202401, 1), row(202512, 1)])  # 24 months
    assert len(chart.columns) == 24
    assert chart.columns[0].count.x >= trend.LEFT
    last = chart.columns[-1].count
    assert last.x + last.width <= trend.RIGHT
    named = [c.month.label for c in chart.columns if c.named]
    assert named == ["2024-01", "2024-04", "2024-07", "2024-10", "2025-01", "2025-04", "2025-07",
                     "2025-10"]  # fmt: skip
    assert [c.month.label for c in chart.columns if c.year] == ["2024-01", "2025-01"]
    assert all(c.value_y is None for c in chart.columns)  # too narrow to write the counts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, (1, 1)),
        (1, (1, 1)),
        (3, (3, 1)),
        (7, (8, 2)),
        (30, (30, 10)),
        (43, (60, 20)),
        (357, (400, 100)),
        (1260, (1500, 500)),
    ],  # fmt: skip
)
def test_nice_top(value, expected):
    assert trend.nice_top(value) == expected
