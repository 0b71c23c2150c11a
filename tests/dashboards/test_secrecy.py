"""Dashboard figures against an independent computation: learners counted distinct in every
row, and no group of fewer than k learners recoverable from what a page shows.

Both run on the demo data with micro-structures added (one or two learners each, in a
département of their own and beside larger structures)."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from afest.dashboards import queries as dashboards
from afest.dashboards import rollups
from afest.dashboards.board import Filters, Listing, Scope
from afest.models import Organisation

K = 3
ALL = lambda _sid: True  # noqa: E731  (a viewer entitled to no structure's records)


def _facts(session, funder_id: int) -> dict[int, dict]:
    """protocol id → its learner and the key it has in each table, read from the base
    tables (not the rollups)."""
    rows = session.connection().execute(
        sa.text(
            "SELECT p.id, p.learner_id, p.structure_id, COALESCE(o.departement, '') AS dept, "
            "p.referential_id, p.planned_start, p.status FROM protocol p "
            "JOIN organisation o ON o.id = p.structure_id WHERE p.funder_id = :f"
        ),
        {"f": funder_id},
    )
    out = {}
    for r in rows:
        start = r.planned_start if not isinstance(r.planned_start, str) else None
        month = (
            start.year * 100 + start.month
            if start
            else int(r.planned_start[:4]) * 100 + int(r.planned_start[5:7])
        )
        out[r.id] = {
            "learner": r.learner_id,
            "structures": r.structure_id,
            "departements": r.dept,
            "referentials": r.referential_id,
            "months": month,
            "statuses": str(r.status.value if hasattr(r.status, "value") else r.status),
        }
    return out


@pytest.fixture
def micro(session, make_structure, make_protocol):
    """Uniformation with micro-structures: two of one learner in a new département "2B", one
    of two learners beside the demo's structures in "06"."""
    uniformation = session.exec(
        select(Organisation).where(Organisation.code == "UNIFORMATION")
    ).one()
    for name, dept, learners in (("Micro A", "2B", 1), ("Micro B", "2B", 1), ("Micro C", "06", 2)):
        structure = make_structure(name=name, opco=uniformation, departement=dept)
        for _ in range(learners):
            make_protocol(structure=structure)
    rollups.drain_all(session)
    return uniformation


def _board(session, funder_id: int, protect):
    return dashboards.build(
        session,
        scope=Scope(funder_ids=frozenset({funder_id})),
        filters=Filters(),
        k=K,
        protect=protect,
        listing=Listing(page=None),
    )


def _tables(board) -> dict:
    return {
        "statuses": board.statuses.rows,
        "structures": board.structures.rows,
        "departements": board.departements.rows,
        "referentials": board.referentials.rows,
        "months": board.months.rows,
    }


def test_learners_are_counted_distinct_in_every_row(session, micro):
    facts = _facts(session, micro.id)
    board = _board(session, micro.id, None)
    assert board.totals.get("learners") == len({f["learner"] for f in facts.values()})
    compared = 0
    for name, rows in _tables(board).items():
        for row in rows:
            expected = {f["learner"] for f in facts.values() if f[name] == (row.key or "")}
            if name == "departements" and row.key is None:
                expected = {f["learner"] for f in facts.values() if f[name] == ""}
            assert row.get("learners") == len(expected), (name, row.label)
            compared += 1
    assert compared > 10


def _rank(vectors: list[list[int]]) -> int:
    """Rank over the rationals (Gaussian elimination with fractions: exact)."""
    rows = [[Fraction(x) for x in v] for v in vectors if any(v)]
    rank, columns = 0, len(rows[0]) if rows else 0
    for c in range(columns):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][c] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][c] != 0:
                factor = rows[i][c] / rows[rank][c]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def test_no_group_under_k_learners_can_be_recomputed(session, micro):
    facts = _facts(session, micro.id)
    ids = sorted(facts)
    board = _board(session, micro.id, ALL)
    assert not board.totals.hidden and board.suppressed

    def vector(table: str, keys: set) -> list[int]:
        return [int(facts[i][table] in keys) for i in ids]

    known = [[1] * len(ids)]  # the total
    hidden = {}
    for name, rows in _tables(board).items():
        keys = {r.key if r.key is not None else "" for r in rows if not r.hidden}
        known += [vector(name, {key}) for key in keys]
        hidden[name] = [r.key if r.key is not None else "" for r in rows if r.hidden]
    met = _conditions_met(session, micro.id)
    conditions = {}
    for condition in CONDITIONS:
        v = [met[i][condition] for i in ids]
        if condition in board.conditions_hidden:
            conditions[condition] = [v, [1 - x for x in v]]
        else:
            known.append(v)
    base = _rank(known)
    tried = 0
    for condition, groups in conditions.items():
        for v in groups:
            learners = {facts[i]["learner"] for i, x in zip(ids, v, strict=True) if x}
            tried += 1
            if 0 < len(learners) < K:
                assert _rank([*known, v]) > base, (condition, len(learners))
    for name, keys in hidden.items():
        largest = 4 if len(keys) <= 12 else 2
        subsets = [c for n in range(1, min(len(keys), largest) + 1) for c in combinations(keys, n)]
        subsets.append(tuple(keys))
        for subset in subsets:
            v = vector(name, set(subset))
            learners = {facts[i]["learner"] for i, x in zip(ids, v, strict=True) if x}
            tried += 1
            if 0 < len(learners) < K:
                assert _rank([*known, v]) > base, (name, subset, len(learners))
    assert tried > 5 and hidden["structures"]


CONDITIONS = ("cond_analysis", "cond_tutor", "cond_reflection", "cond_evaluation")


def _conditions_met(session, funder_id: int) -> dict[int, dict[str, int]]:
    """protocol id → whether it meets each legal condition (the rollups' per-protocol facts,
    which tests/dashboards/test_rollups.py checks against the compliance panel's rule)."""
    rows = session.connection().execute(
        sa.text(
            "SELECT protocol_id, " + ", ".join(CONDITIONS) + " FROM rollupprotocol "
            "WHERE funder_id = :f"
        ),
        {"f": funder_id},
    )
    return {r.protocol_id: {c: getattr(r, c) for c in CONDITIONS} for r in rows}


def test_a_legal_condition_met_or_missed_by_few_learners_is_hidden(session, micro):
    """All protocols − those meeting a condition = those missing it: the count is hidden when
    either group is 1 to k − 1 learners (here: one learner's protocol lacks the analysis of
    the activity, two learners' have a signed evaluation)."""
    facts, met = _facts(session, micro.id), _conditions_met(session, micro.id)
    board = _board(session, micro.id, ALL)
    assert not board.totals.hidden
    decided = {}
    for condition in CONDITIONS:
        groups = [
            {facts[p]["learner"] for p, m in met.items() if m[condition] == value}
            for value in (0, 1)
        ]
        decided[condition] = any(0 < len(g) < K for g in groups)
        assert (condition in board.conditions_hidden) == decided[condition], (condition, groups)
    assert any(decided.values()) and not all(decided.values())
    assert board.suppressed
    assert not _board(session, micro.id, None).conditions_hidden  # entitled to every record
