"""Distinct learners of a dashboard's rows, counted from the per-protocol facts.

A learner counts once in every row where she has a protocol (a learner with two protocols in
two départements counts in both, and once in the total), so learner counts do not add up
like the other figures and cannot be summed from the rollup cells: they are counted, with
COUNT(DISTINCT), over the facts of the viewer's scope (`rollupprotocol`, one row per
protocol), through covering indexes that hold the owner, the row's dimension and the
learner (afest/models/rollup.py). One statement per table of a page. A page of one owner
without filters reads the counts the rollups keep instead (afest.dashboards.members).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import sqlalchemy as sa
from sqlalchemy import func, select

from afest.dashboards import members
from afest.dashboards.board import STATUS_VALUES, Filters, Scope
from afest.models.rollup import rollup_block_pattern, rollup_protocol, rollup_protocol_block

rp = rollup_protocol


def shape(scope: Scope, filters: Filters) -> tuple[bool, ...]:
    """Which conditions a query needs; the statements are built once per shape."""
    return (
        bool(scope.funder_ids),
        bool(scope.cohort_ids),
        scope.structure_id is not None,
        scope.whole_structure and scope.structure_id is not None,
        filters.departement is not None,
        filters.referential_id is not None,
        filters.month_from is not None,
        filters.month_to is not None,
    )


def params(scope: Scope, filters: Filters) -> dict:
    return {
        "funders": sorted(scope.funder_ids),
        "cohorts": sorted(scope.cohort_ids),
        "structure": scope.structure_id,
        "dept": filters.departement,
        "ref": filters.referential_id,
        "mfrom": filters.month_from,
        "mto": filters.month_to,
    }


def conditions(table, shape: tuple[bool, ...], *, months: bool = True) -> list:
    """The WHERE clauses of a scope and filters over `table` (facts or cells), as bound
    parameters named as in `params`."""
    funders, cohorts, structure, whole, dept, ref, mfrom, mto = shape
    owners = []
    if funders:
        owners.append(table.c.funder_id.in_(sa.bindparam("funders", expanding=True)))
    if cohorts:
        owners.append(table.c.cohort_id.in_(sa.bindparam("cohorts", expanding=True)))
    clauses = []
    if not whole:
        clauses.append(sa.or_(*owners) if owners else sa.false())
    if structure:
        clauses.append(table.c.structure_id == sa.bindparam("structure"))
    if dept:
        clauses.append(table.c.departement == sa.bindparam("dept"))
    if ref:
        clauses.append(table.c.referential_id == sa.bindparam("ref"))
    if mfrom and months:
        clauses.append(table.c.month >= sa.bindparam("mfrom"))
    if mto and months:
        clauses.append(table.c.month <= sa.bindparam("mto"))
    return clauses


@cache
def _by(column: str, shape: tuple[bool, ...], keyed: bool):
    where = conditions(rp, shape)
    if keyed:
        where.append(rp.c[column].in_(sa.bindparam("keys", expanding=True)))
    count = func.count(sa.distinct(rp.c.learner_id))
    return select(rp.c[column], count).where(*where).group_by(rp.c[column])


@cache
def _tables(columns: tuple[str | None, ...], shape: tuple[bool, ...]):
    parts = []
    for i, column in enumerate(columns):
        where = conditions(rp, shape)
        if column == "paused":
            where.append(rp.c.status == STATUS_VALUES["progress"])
        key = sa.null() if column is None else sa.cast(rp.c[column], sa.String)
        part = select(sa.literal(i), key, func.count(sa.distinct(rp.c.learner_id))).where(*where)
        parts.append(part if column is None else part.group_by(rp.c[column]))
    return sa.union_all(*parts)


@cache
def _by_block(shape: tuple[bool, ...]):
    rb = rollup_protocol_block
    return (
        select(rb.c.block_id, func.count(sa.distinct(rp.c.learner_id)))
        .select_from(rb.join(rp, rp.c.protocol_id == rb.c.protocol_id))
        .where(*conditions(rp, shape), rb.c.block_id.in_(sa.bindparam("keys", expanding=True)))
        .group_by(rb.c.block_id)
    )


@cache
def _patterns(shape: tuple[bool, ...]):
    return (
        select(rp.c.referential_id, rp.c.blockset, func.count(), func.sum(rp.c.learners))
        .where(
            *conditions(rp, shape), rp.c.referential_id.in_(sa.bindparam("refs", expanding=True))
        )
        .group_by(rp.c.referential_id, rp.c.blockset)
    )


@cache
def _kept_patterns():
    bp = rollup_block_pattern.c
    return select(bp.referential_id, bp.blockset, bp.protocols, bp.latest).where(
        bp.owner == sa.bindparam("owner"),
        bp.owner_id == sa.bindparam("owner_id"),
        bp.referential_id.in_(sa.bindparam("refs", expanding=True)),
    )


class Learners:
    """Distinct learners in a viewer's scope under a dashboard's filters."""

    def __init__(self, conn, scope: Scope, filters: Filters):
        self.conn = conn
        self.shape = shape(scope, filters)
        self.params = params(scope, filters)
        # one owner and no filter: the counts kept in the rollups (afest.dashboards.members)
        self.owner = members.kept_owner(self.shape, self.params)

    def _kept(self, columns: tuple[str | None, ...], keys: Iterable | None = None) -> dict:
        """{column: {row key: learners}} read from the counts kept for the owner."""
        found = members.counts(
            self.conn, self.owner, (members.DIMENSION_OF[c] for c in columns), keys
        )
        out: dict = {}
        for column in columns:
            rows = found[members.DIMENSION_OF[column]]
            if column is None:
                out[None] = {None: rows[""]} if "" in rows else {}
            elif rp.c[column].type.python_type is int:
                out[column] = {int(key): n for key, n in rows.items()}
            else:
                out[column] = dict(rows)
        return out

    def by(self, column: str, keys: Iterable | None = None) -> dict:
        """{row key: learners} of the rows of `column`, only those of `keys` if given."""
        if self.owner is not None:
            if keys is not None:
                keys = list(keys)
                if not keys:
                    return {}
            return self._kept((column,), keys)[column]
        values = dict(self.params)
        if keys is not None:
            values["keys"] = sorted(set(keys))
            if not values["keys"]:
                return {}
        statement = _by(column, self.shape, keys is not None)
        return dict(self.conn.execute(statement, values).all())

    def tables(self, columns: Iterable[str | None]) -> dict:
        """{column: {row key: learners}} of whole tables in one statement (None: the total;
        "paused": in progress, paused or not)."""
        columns = tuple(columns)
        if self.owner is not None:
            return self._kept(columns)
        rows = self.conn.execute(_tables(columns, self.shape), self.params).all()
        out: dict = {column: {} for column in columns}
        for i, key, n in rows:
            column = columns[i]
            if key is not None and column is not None and rp.c[column].type.python_type is int:
                key = int(key)
            out[column][key] = n
        return out

    def of_blocks(self, keys: Iterable[int]) -> dict[int, int]:
        keys = sorted(set(keys))
        if not keys:
            return {}
        return dict(self.conn.execute(_by_block(self.shape), {**self.params, "keys": keys}).all())

    def block_patterns(self, referentials: Iterable[int]) -> dict[int, dict[frozenset, tuple]]:
        """{référentiel id: {blocks targeted: (protocols, latest)}} of the protocols of these
        référentiels, grouped by the blocks they target (a frozenset of block ids), in one
        statement from an index: how many protocols, and how many of them their learner's
        latest (each learner counted once, at most one of her protocols). A page of one owner
        without filters reads the patterns kept for it (`rollupblockpattern`, a few dozen
        rows) instead of grouping its protocols."""
        refs = sorted(set(referentials))
        if not refs:
            return {}
        if self.owner is not None:
            statement = _kept_patterns()
            values = {"owner": self.owner[0], "owner_id": self.owner[1], "refs": refs}
        else:
            statement = _patterns(self.shape)
            values = {**self.params, "refs": refs}
        out: dict[int, dict[frozenset, tuple]] = {}
        for ref, blockset, protocols, latest in self.conn.execute(statement, values):
            blocks = frozenset(int(b) for b in blockset.split(",") if b)
            out.setdefault(ref, {})[blocks] = (protocols, int(latest or 0))
        return out

    def of_patterns(self, groups: dict[object, tuple[int, Iterable[frozenset]]]) -> dict:
        """Learners of each group of protocols, {name: (référentiel id, the sets of blocks
        its protocols target)}, in one statement."""
        if not groups:
            return {}
        values = dict(self.params)
        parts = []
        for i, (ref, patterns) in enumerate(groups.values()):
            values[f"r{i}"] = ref
            values[f"g{i}"] = sorted(",".join(map(str, sorted(p))) for p in set(patterns))
            parts.append(
                select(sa.literal(i), func.count(sa.distinct(rp.c.learner_id))).where(
                    *conditions(rp, self.shape),
                    rp.c.referential_id == sa.bindparam(f"r{i}"),
                    rp.c.blockset.in_(sa.bindparam(f"g{i}", expanding=True)),
                )
            )
        names = list(groups)
        statement = parts[0] if len(parts) == 1 else sa.union_all(*parts)
        return {names[i]: n for i, n in self.conn.execute(statement, values).all()}

    def of_groups(self, groups: dict[object, tuple[str, Iterable]]) -> dict[object, int]:
        """Learners of each group of rows, {name: (column, row keys)}, in one statement: how
        many people a combination of hidden rows is about."""
        if not groups:
            return {}
        values = dict(self.params)
        parts = []
        for i, (column, keys) in enumerate(groups.values()):
            values[f"g{i}"] = sorted(set(keys))
            parts.append(
                select(sa.literal(i), func.count(sa.distinct(rp.c.learner_id))).where(
                    *conditions(rp, self.shape),
                    rp.c[column].in_(sa.bindparam(f"g{i}", expanding=True)),
                )
            )
        names = list(groups)
        statement = parts[0] if len(parts) == 1 else sa.union_all(*parts)
        return {names[i]: n for i, n in self.conn.execute(statement, values).all()}
