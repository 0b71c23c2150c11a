"""Dashboard figures against an independent computation: learners counted distinct in every
row, and no group of fewer than k learners recoverable from what a page shows.

Both run on the demo data with micro-structures added (one or two learners each, in a
département of their own and beside larger structures); the block rules also on structures
whose protocols each target one block."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from afest.dashboards import queries as dashboards
from afest.dashboards import rollups
from afest.dashboards.board import Filters, Listing, Scope
from afest.dashboards.learners import Learners
from afest.models import Organisation, Referential, SignerRole
from afest.models.rollup import rollup_protocol
from afest.protocols import drafting
from afest.protocols import operations as protocols

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


def test_learners_are_counted_distinct_in_every_row(session, micro, make_protocol):
    # a learner whose older protocol targets a block her latest one does not: that block's
    # learners are more than those counted under their latest protocol
    first, people = make_protocol(
        structure=session.exec(select(Organisation).where(Organisation.name == "Micro C")).one()
    )
    referential = session.get(Referential, first.referential_id)
    drafting.create_protocol(
        session,
        actor_id=people["manager"].id,
        learner=people["learner"],
        structure=session.get(Organisation, first.structure_id),
        referential_id=referential.id,
        title="AFEST suite",
        planned_start=first.planned_start,
        planned_end=first.planned_end,
        competence_ids=[c.id for c in referential.blocks[-1].competences],
        tutor_ids=[people["tutor"].id],
        activity_analysis="Analyse",
    )
    session.commit()
    rollups.drain_all(session)
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
    # a block's learners: those with a protocol targeting it (an export shows them)
    targeted = _targeted_blocks(session, micro.id)
    for row in board.blocks.rows:
        expected = {facts[p]["learner"] for p, blocks in targeted.items() if row.key in blocks}
        assert row.get("learners") == len(expected), ("blocks", row.label)
        compared += 1
    assert any(r.get("latest") < r.get("learners") for r in board.blocks.rows)
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


def _targeted_blocks(session, funder_id: int) -> dict[int, set[int]]:
    """protocol id → the blocks it targets, read from the base tables (the block of each
    targeted competence)."""
    rows = session.connection().execute(
        sa.text(
            "SELECT pc.protocol_id, c.block_id FROM protocolcompetence pc "
            "JOIN competence c ON c.id = pc.competence_id "
            "JOIN protocol p ON p.id = pc.protocol_id WHERE p.funder_id = :f"
        ),
        {"f": funder_id},
    )
    out: dict[int, set[int]] = {}
    for r in rows:
        out.setdefault(r.protocol_id, set()).add(r.block_id)
    return out


def _assert_nothing_small_recomputable(session, funder_id: int):
    """No group of 1 to k − 1 learners lies in the span of the figures shown: every
    combination of hidden rows of a table (up to 4 of them, and all of them); of a
    référentiel, its protocols targeting exactly the same blocks, and those not targeting a
    block (its row minus the block, when shown); the protocols meeting, or not meeting, a
    hidden legal condition. Return the board."""
    facts = _facts(session, funder_id)
    targeted = _targeted_blocks(session, funder_id)
    ids = sorted(facts)
    board = _board(session, funder_id, ALL)
    assert not board.totals.hidden and board.suppressed

    def vector(table: str, keys: set) -> list[int]:
        if table == "blocks":  # a protocol counts in every block it targets
            return [int(bool(targeted.get(i, set()) & keys)) for i in ids]
        return [int(facts[i][table] in keys) for i in ids]

    known = [[1] * len(ids)]  # the total
    groups: list[tuple[object, list[int]]] = []
    for name, rows in {**_tables(board), "blocks": board.blocks.rows}.items():
        keys = {r.key if r.key is not None else "" for r in rows if not r.hidden}
        known += [vector(name, {key}) for key in keys]
        hidden = [r.key if r.key is not None else "" for r in rows if r.hidden]
        largest = 4 if len(hidden) <= 12 else 2
        subsets = [
            c for n in range(1, min(len(hidden), largest) + 1) for c in combinations(hidden, n)
        ]
        subsets.append(tuple(hidden))
        groups += [((name, subset), vector(name, set(subset))) for subset in subsets]
    for ref in {f["referentials"] for f in facts.values()}:
        mine = [facts[i]["referentials"] == ref for i in ids]
        patterns = {frozenset(targeted.get(i, ())) for i, m in zip(ids, mine, strict=True) if m}
        for pattern in patterns:
            v = [
                int(m and targeted.get(i, set()) == pattern) for i, m in zip(ids, mine, strict=True)
            ]
            groups.append((("cell", ref, sorted(pattern)), v))
        for block in set().union(*patterns):
            v = [
                int(m and block not in targeted.get(i, ())) for i, m in zip(ids, mine, strict=True)
            ]
            groups.append((("without block", ref, block), v))
    met = _conditions_met(session, funder_id)
    for condition in CONDITIONS:
        v = [met[i][condition] for i in ids]
        if condition in board.conditions_hidden:
            groups += [((condition, 1), v), ((condition, 0), [1 - x for x in v])]
        else:
            known.append(v)
    base = _rank(known)
    for name, v in groups:
        learners = {facts[i]["learner"] for i, x in zip(ids, v, strict=True) if x}
        if 0 < len(learners) < K:
            assert _rank([*known, v]) > base, (name, len(learners))
    assert len(groups) > 5
    return board


def test_no_group_under_k_learners_can_be_recomputed(session, micro):
    board = _assert_nothing_small_recomputable(session, micro.id)
    assert any(r.hidden for r in board.structures.rows)
    assert any(not r.hidden for r in board.blocks.rows)


def _protocol_in_block(session, make_protocol, structure, referential_code: str, block: int):
    """A protocol in progress of `structure` targeting the competences of one block only
    (the `block`-th of its référentiel)."""
    protocol, people = make_protocol(
        structure=structure, stage="draft", referential_code=referential_code
    )
    referential = session.get(Referential, protocol.referential_id)
    drafting.update_draft(
        session,
        actor_id=people["manager"].id,
        protocol=protocol,
        referential_id=referential.id,
        title=protocol.title,
        planned_start=protocol.planned_start,
        planned_end=protocol.planned_end,
        competence_ids=[c.id for c in referential.blocks[block].competences],
        tutor_ids=[people["tutor"].id],
        activity_analysis="Analyse",
    )
    protocols.submit_for_signature(session, actor_id=people["manager"].id, protocol=protocol)
    for role, who in (
        (SignerRole.STRUCTURE, people["manager"]),
        (SignerRole.TUTOR, people["tutor"]),
        (SignerRole.LEARNER, people["learner"]),
    ):
        protocols.sign_protocol(
            session, actor_id=who.id, protocol=protocol, role=role, method="password"
        )
    session.commit()
    return protocol


def _uniformation(session) -> Organisation:
    return session.exec(select(Organisation).where(Organisation.code == "UNIFORMATION")).one()


def _blocks_of(session, code: str) -> list[int]:
    referential = session.exec(select(Referential).where(Referential.code == code)).one()
    return [b.id for b in referential.blocks]


@pytest.fixture
def single_blocks(session, make_structure, make_protocol):
    """An OPCO of its own with two structures whose protocols each target one block of
    RNCP36004: five learners on its first block, one on its second. The blocks are a
    partition of the référentiel's row."""
    first = make_structure(name="Micro D", departement="2A")
    opco = session.get(Organisation, first.opco_id)
    second = make_structure(name="Micro E", opco=opco, departement="2A")
    for structure, block in ((first, 0), (first, 0), (first, 0), (second, 0), (second, 0)):
        _protocol_in_block(session, make_protocol, structure, "RNCP36004", block)
    _protocol_in_block(session, make_protocol, second, "RNCP36004", 1)
    rollups.drain_all(session)
    return opco


def test_blocks_that_partition_a_referential_hide_each_other(session, single_blocks):
    """The référentiel's row (6 learners) minus its first block (5) would be its second (1):
    the first block is hidden with it, though nothing else on the page is."""
    board = _assert_nothing_small_recomputable(session, single_blocks.id)
    first, second = _blocks_of(session, "RNCP36004")[:2]
    (row,) = board.referentials.rows
    assert not row.hidden and row.get("learners") == 6
    blocks = {r.key: r for r in board.blocks.rows}
    assert blocks[first].get("learners") == 5 and blocks[first].hidden
    assert blocks[second].get("learners") == 1 and blocks[second].hidden
    assert not any(r.hidden for r in board.structures.rows + board.referentials.rows)


@pytest.fixture
def small_referential(session, make_structure, make_protocol):
    """Uniformation with two référentiels of its own: RNCP35830, three learners whose
    protocols target its first block, and RNCP36004, one learner. The second is hidden, so
    the first is too (the total minus the two others would be the second)."""
    uniformation = _uniformation(session)
    for name, code, learners in (("Micro F", "RNCP35830", 3), ("Micro G", "RNCP36004", 1)):
        structure = make_structure(name=name, opco=uniformation, departement="06")
        for _ in range(learners):
            _protocol_in_block(session, make_protocol, structure, code, 0)
    rollups.drain_all(session)
    return uniformation


def test_the_blocks_of_a_referential_hidden_by_secondary_suppression_are_hidden(
    session, small_referential
):
    """RNCP35830 has three learners, but is hidden to protect RNCP36004: its one block, of
    the same three learners, would give it back."""
    board = _assert_nothing_small_recomputable(session, small_referential.id)
    ref = session.exec(select(Referential).where(Referential.code == "RNCP35830")).one()
    row = next(r for r in board.referentials.rows if r.key == ref.id)
    assert row.hidden and row.get("learners") == 3  # not a small cell: secondary
    blocks = [r for r in board.blocks.rows if r.key in _blocks_of(session, "RNCP35830")]
    assert blocks and all(r.hidden for r in blocks)
    assert [r.get("learners") for r in blocks if r.get("protocols")] == [3]


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


def test_the_kept_block_patterns_give_the_cells_of_the_scan(session, micro, monkeypatch):
    """A page of one owner without filters reads its block patterns from the rollups
    (`rollupblockpattern`): the same patterns as grouping its protocols, for every OPCO and
    cohort, and the same block table, hidden cells included."""
    conn = session.connection()
    rp = rollup_protocol.c
    refs = list(conn.scalars(sa.select(rp.referential_id).distinct()))
    scopes = [
        Scope(funder_ids=frozenset({i}))
        for i in conn.scalars(sa.select(rp.funder_id).distinct().where(rp.funder_id != 0))
    ] + [
        Scope(cohort_ids=frozenset({i}))
        for i in conn.scalars(sa.select(rp.cohort_id).distinct().where(rp.cohort_id != 0))
    ]
    assert any(s.cohort_ids for s in scopes) and any(s.funder_ids for s in scopes)
    for scope in scopes:
        count = Learners(conn, scope, Filters())
        assert count.owner is not None
        kept = count.block_patterns(refs)
        count.owner = None  # grouped from the facts
        assert kept and kept == count.block_patterns(refs), scope

    def cells(board):
        return [(r.key, r.hidden, r.get("learners"), r.get("protocols")) for r in board.blocks.rows]

    kept = cells(_board(session, micro.id, ALL))
    assert kept and any(hidden for _, hidden, _, _ in kept)
    read = Learners.block_patterns

    def scanned(self, referentials):
        self.owner = None
        return read(self, referentials)

    monkeypatch.setattr(Learners, "block_patterns", scanned)
    assert cells(_board(session, micro.id, ALL)) == kept
