"""Small cells of the cross-structure dashboards: hidden, and not recomputable from totals.

A figure about fewer than k learners is hidden from a viewer not entitled to those learners'
records (policy.sees_learner_records), and so is a complementary figure wherever the hidden one
could be recomputed from a total shown: in every table (whose rows add up to the totals) and,
for the structures, within each département (whose row is their total).

Learner counts in the cells count a learner once, under their most recent protocol: a lower
bound for any row. A row whose count reaches k is therefore safe and a row with fewer than k
protocols is not; in between, the exact number of distinct learners is counted from the
per-protocol facts of those rows only (a few protocols each).

Limits: block rows do not add up to the totals (a protocol may target several blocks), so
they get no complement; inference across different partitions (for example référentiel ×
structure) is not solved in general (the cell suppression problem), only along the
structure ⊂ département hierarchy.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlmodel import Session

from afest.dashboards.board import Dashboard, Filters, Row, Scope
from afest.models.rollup import rollup_protocol


def _exact_learners(session, scope, filters, column: str, keys: list) -> dict:
    """Distinct learners per row, from the per-protocol facts of these rows only."""
    if not keys:
        return {}
    rp = rollup_protocol
    query = (
        select(rp.c[column], func.count(sa.distinct(rp.c.learner_id)))
        .where(*scope.where(rp), *filters.where(rp, months=True), rp.c[column].in_(keys))
        .group_by(rp.c[column])
    )
    return dict(session.connection().execute(query).all())


def _primary(session, scope, filters, k: int, rows: list[Row], column: str | None, protect) -> None:
    ambiguous = []
    for row in rows:
        if column == "structure_id" and not protect(row.key):
            continue
        if row.get("protocols") and row.get("protocols") < k:
            row.hidden = True
        elif row.get("protocols") and row.get("learners") < k:
            ambiguous.append(row)
    if ambiguous and column:
        exact = _exact_learners(session, scope, filters, column, [r.key for r in ambiguous])
        for row in ambiguous:
            row.hidden = exact.get(row.key, 0) < k
    elif ambiguous:  # block rows: no per-protocol key to count from; stay on the safe side
        for row in ambiguous:
            row.hidden = True


def _complement(rows: list[Row], protect=None) -> None:
    """If exactly one row is hidden, the total gives it away: hide the smallest other one."""
    hidden = [r for r in rows if r.hidden]
    if len(hidden) != 1:
        return
    candidates = [r for r in rows if not r.hidden and (protect is None or protect(r.key))]
    if candidates:
        min(candidates, key=lambda r: (r.get("protocols"), str(r.label))).hidden = True


def hide_small_cells(
    session: Session,
    board: Dashboard,
    scope: Scope,
    filters: Filters,
    k: int,
    protect: Callable[[int], bool],
) -> None:
    """Hide the small cells of `board` (and their complements) in place."""
    totals = board.totals
    if totals.get("protocols") and totals.get("learners") < k:
        rp = rollup_protocol
        exact = session.connection().scalar(
            select(func.count(sa.distinct(rp.c.learner_id))).where(
                *scope.where(rp), *filters.where(rp, months=True)
            )
        )
        totals.hidden = exact < k
    _primary(session, scope, filters, k, board.structures.rows, "structure_id", protect)
    for column, table in (
        ("departement", board.departements),
        ("referential_id", board.referentials),
        ("month", board.months),
        (None, board.blocks),
    ):
        _primary(session, scope, filters, k, table.rows, column, protect)
    # structures: within each département first (its row is a total), then overall
    by_dept: dict[str, list[Row]] = {}
    for row in board.structures.rows:
        by_dept.setdefault(row.group or "", []).append(row)
    dept_rows = {r.key or "": r for r in board.departements.rows}
    for dept, rows in by_dept.items():
        if not dept_rows.get(dept, Row(None, "", {}, hidden=True)).hidden:
            _complement(rows, protect)
    for table in board.tables:
        _complement(table.rows, protect if table is board.structures else None)
    # block rows do not sum to the total (a protocol may target several blocks): no complement
    # VAE: a count of 1..k-1 pathways is hidden, and complemented among the jury results
    board.vae_hidden = {m for m, v in board.vae.values.items() if 0 < v < k}
    for row in board.jury:
        row.hidden = 0 < row.get("pathways") < k
    _complement(board.jury)
    if totals.hidden:
        for table in board.tables:
            for row in table.rows:
                row.hidden = True
    board.suppressed = (
        totals.hidden
        or bool(board.vae_hidden)
        or any(r.hidden for r in board.jury)
        or any(r.hidden for t in board.tables for r in t.rows)
    )
