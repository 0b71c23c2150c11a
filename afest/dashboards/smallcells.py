"""Small cells of the dashboards: hidden, and not recomputable from anything shown.

A figure about fewer than k learners is hidden from a viewer not entitled to those learners'
records (policy.learner_records_of): a row of any table (primary suppression). Then
(secondary suppression), whatever can be recomputed by adding and subtracting shown figures
must be about no learner or k learners or more. On a page, the tables that add up are:

- each table of a partition of the protocols (by status, département, référentiel, month of
  start; by structure), whose rows add up to the total: total − the shown rows = the hidden
  rows together;
- the hierarchy total ⊃ départements ⊃ structures: a shown département minus its shown
  structures = its hidden structures together; and the total minus the shown départements
  and the shown structures of the hidden ones = the hidden structures of the hidden
  départements together (a hidden département whose structures are all shown is their sum);
- the paused protocols among those in progress: in progress − paused = the others.

Each such group of hidden rows is counted (distinct learners, one statement for all the
groups of a round) and, while it is about 1 to k − 1 learners, the smallest shown row that
may join it is hidden too (for the hierarchy, if none is left, the smallest shown
département). The sum of the rows' `latest` counts (each learner counted once, under her
latest protocol) is a lower bound of a group's learners and spares most counts.

- the protocols meeting a legal condition among all of them: all − meeting = the others. A
  condition's count is hidden when those meeting it, or those not meeting it, are 1 to
  k − 1 learners.
- the blocks of a référentiel within its row (every protocol targets blocks of its
  référentiel only, at least one): a référentiel's row and its shown blocks tell apart its
  cells, the protocols targeting the same shown blocks of it, and may give one back (its
  row − a block = the protocols not targeting it; when each protocol targets one block,
  its row − its shown blocks = its hidden blocks together). The cells of each shown
  référentiel are counted (one statement for all of them, a round) and, while one is about
  1 to k − 1 learners, the smallest shown block that merges it with another cell is hidden
  (all its blocks hidden, its one cell is its row). The blocks of a hidden référentiel,
  hidden for any reason, are hidden: they may add up to its row.

Not covered: inference across different partitions (référentiel × structure, say) needs
cross-tabulated cells that no page shows.
"""

from __future__ import annotations

from collections.abc import Callable

from afest.dashboards.board import STATUS_VALUES, Dashboard, Row
from afest.dashboards.learners import Learners


def _small(row: Row, k: int) -> bool:
    return 0 < row.get("learners") < k


def _primary(count: Learners, rows: list[Row], k: int, protect) -> None:
    """Structures: their exact learners are counted only where the rollup's bounds leave it
    open (fewer protocols than k: hidden; k learners under their latest protocol: shown)."""
    ambiguous = []
    for row in rows:
        if not protect(row.key) or not row.get("protocols"):
            continue
        if row.get("protocols") < k:
            row.hidden = True
        elif row.get("latest") < k:
            ambiguous.append(row)
    exact = count.by("structure_id", [r.key for r in ambiguous])
    for row in ambiguous:
        row.hidden = exact.get(row.key, 0) < k


def _secure(
    count: Learners,
    k: int,
    column: str,
    groups: list[tuple[list[Row], list[Row]]],
    may_hide: Callable[[Row], bool],
) -> list[int]:
    """Each group is (rows, candidates): while the hidden ones of `rows` are about 1 to k − 1
    learners together, hide the smallest shown candidate. Return the groups (indexes) left
    short of candidates."""
    pending, failed = list(range(len(groups))), []
    while pending:
        need = {}
        for i in pending:
            hidden = [r for r in groups[i][0] if r.hidden]
            if hidden and sum(r.get("latest") for r in hidden) < k:
                need[i] = (column, [r.key for r in hidden])
        counts = count.of_groups(need)
        pending = []
        for i in need:
            if counts.get(i, 0) >= k or counts.get(i, 0) == 0:
                continue
            pool = [r for r in groups[i][1] if not r.hidden and may_hide(r)]
            if not pool:
                failed.append(i)
                continue
            min(pool, key=lambda r: (r.get("protocols"), r.label.casefold())).hidden = True
            pending.append(i)
    return failed


def _hierarchy(count: Learners, board: Dashboard, k: int, protect) -> None:
    """Structures within départements within the total."""
    structures = board.structures.rows
    depts = {r.key or "": r for r in board.departements.rows}
    by_dept: dict[str, list[Row]] = {}
    for row in structures:
        by_dept.setdefault(row.group or "", []).append(row)
    may_hide = lambda r: protect(r.key)  # noqa: E731
    shown = [rows for d, rows in by_dept.items() if d in depts and not depts[d].hidden]
    _secure(count, k, "structure_id", [(rows, rows) for rows in shown], may_hide)
    while True:
        in_hidden = [
            r for d, rows in by_dept.items() if d not in depts or depts[d].hidden for r in rows
        ]
        if not _secure(count, k, "structure_id", [(in_hidden, in_hidden)], may_hide):
            return
        # every structure of the hidden départements is hidden: bring in another département
        others = [
            depts[d]
            for d, rows in by_dept.items()
            if d in depts and not depts[d].hidden and any(protect(r.key) for r in rows)
        ]
        if not others:
            return
        min(others, key=lambda r: (r.get("protocols"), r.label)).hidden = True


def _blocks(count: Learners, board: Dashboard, k: int) -> None:
    """Block rows, after the référentiel table is secured (their small ones are hidden
    already): the blocks of a hidden référentiel are hidden; of a shown one, while a cell
    (its protocols targeting the same shown blocks of it) is about 1 to k − 1 learners, the
    smallest shown block that merges it with another cell is hidden. Hiding a block merges
    the cells that differ by it alone; all of them hidden, the one cell left is the
    référentiel's row (k learners or more, as it is shown), so no référentiel need be hidden
    for its blocks.

    The protocols are grouped by the blocks they target once (`block_patterns`, from the
    rollup's fact rows); each round merges those patterns by what they target among the
    shown blocks. A cell's learners are at least the sum of its patterns' latest ones and
    at most its protocols: only between k and those bounds are they counted (one statement
    for all such cells of a round)."""
    refs = {str(r.key): r for r in board.referentials.rows}
    by_ref: dict[str, list[Row]] = {}
    for row in board.blocks.rows:
        if row.get("protocols"):
            by_ref.setdefault(row.group or "", []).append(row)
    pending = {}
    for ref, rows in by_ref.items():
        if ref not in refs or refs[ref].hidden:
            for row in rows:
                row.hidden = True
        else:
            pending[refs[ref].key] = rows
    patterns = count.block_patterns(pending) if pending else {}
    smallest = lambda r: (r.get("protocols"), r.label.casefold())  # noqa: E731
    while pending:
        # {référentiel: {cell: [protocols, latest learners, the patterns merged in it]}}
        cells: dict[object, dict[frozenset, list]] = {}
        for ref, rows in pending.items():
            shown = frozenset(r.key for r in rows if not r.hidden)
            merged = cells[ref] = {}
            for pattern, (protocols, latest) in patterns.get(ref, {}).items():
                cell = merged.setdefault(pattern & shown, [0, 0, []])
                cell[0] += protocols
                cell[1] += latest
                cell[2].append(pattern)
        exact = count.of_patterns(
            {
                (ref, cell): (ref, c[2])
                for ref, merged in cells.items()
                for cell, c in merged.items()
                if c[0] >= k and c[1] < k
            }
        )
        rounds = {}
        for ref, rows in pending.items():
            merged = cells[ref]
            small = [
                cell
                for cell, (protocols, _latest, _patterns) in merged.items()
                if 0 < protocols < k or 0 < exact.get((ref, cell), k) < k
            ]
            visible = [r for r in rows if not r.hidden]
            if not small or not visible:
                continue
            present = {cell for cell, c in merged.items() if c[0]}
            merging = [r for r in visible if any(cell ^ {r.key} in present for cell in small)]
            min(merging or visible, key=smallest).hidden = True
            rounds[ref] = rows
        pending = rounds


CONDITIONS = ("cond_analysis", "cond_tutor", "cond_reflection", "cond_evaluation")


def _conditions(count: Learners, totals: Row, k: int) -> set[str]:
    """The legal conditions whose count is hidden: met, or not met, by the protocols of 1 to
    k − 1 learners. Fewer than k protocols are fewer than k learners; the learners whose
    latest protocol meets it (or not) are a lower bound; only between the two are the
    learners counted."""
    hidden, open_groups = set(), {}
    for condition in CONDITIONS:
        met, latest_met = totals.get(condition), totals.get(f"l_{condition}")
        for value, protocols, at_least in (
            (1, met, latest_met),
            (0, totals.get("protocols") - met, totals.get("latest") - latest_met),
        ):
            if 0 < protocols < k:
                hidden.add(condition)
            elif protocols >= k and at_least < k:
                open_groups[(condition, value)] = (condition, [value])
    exact = count.of_groups({key: g for key, g in open_groups.items() if key[0] not in hidden})
    return hidden | {condition for (condition, _v), n in exact.items() if 0 < n < k}


def _hide_everything(board: Dashboard) -> None:
    board.totals.hidden = board.paused.hidden = True
    for table in (board.statuses, *board.tables):
        for row in table.rows:
            row.hidden = True


def hide_small_cells(
    count: Learners, board: Dashboard, k: int, protect: Callable[[int], bool]
) -> None:
    """Hide the small cells of `board` and whatever would recompute them, in place.
    `protect(structure_id)`: whether the viewer may not see that structure's small cells."""
    if _small(board.totals, k):
        _hide_everything(board)
    else:
        for table in (
            board.statuses,
            board.departements,
            board.referentials,
            board.months,
        ):
            for row in table.rows:
                row.hidden = _small(row, k)
        _primary(count, board.structures.rows, k, protect)
        blocks = [r for r in board.blocks.rows if r.get("protocols")]
        for row in blocks:
            row.hidden = row.get("protocols") < k
        exact = count.of_blocks(r.key for r in blocks if not r.hidden and r.get("latest") < k)
        for row in blocks:
            row.hidden = row.hidden or (row.key in exact and exact[row.key] < k)
        always = lambda _r: True  # noqa: E731
        for table, column in (
            (board.statuses, "status"),
            (board.departements, "departement"),
            (board.referentials, "referential_id"),
            (board.months, "month"),
        ):
            _secure(count, k, column, [(table.rows, table.rows)], always)
        _blocks(count, board, k)
        _hierarchy(count, board, k, protect)
        progress = next(r for r in board.statuses.rows if r.key == STATUS_VALUES["progress"])
        paused = board.paused
        paused.hidden = progress.hidden or _small(paused, k) or 0 < paused.get("others") < k
        if any(protect(r.key) for r in board.structures.rows):
            board.conditions_hidden = _conditions(count, board.totals, k)
    # VAE: a count of 1..k-1 pathways is hidden, and complemented among the jury results
    board.vae_hidden = {m for m, v in board.vae.values.items() if 0 < v < k}
    for row in board.jury:
        row.hidden = 0 < row.get("pathways") < k
    hidden = [r for r in board.jury if r.hidden]
    if len(hidden) == 1 and (rest := [r for r in board.jury if not r.hidden]):
        min(rest, key=lambda r: r.get("pathways")).hidden = True
    board.suppressed = (
        board.totals.hidden
        or board.paused.hidden
        or bool(board.vae_hidden)
        or bool(board.conditions_hidden)
        or any(r.hidden for r in board.jury)
        or any(r.hidden for t in (board.statuses, *board.tables) for r in t.rows)
    )
