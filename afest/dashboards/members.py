"""Distinct learners kept in the rollups, for the pages that are not filtered.

A learner counts once in every row where she has a protocol (afest.dashboards.learners), so
her counts do not add up from the cells. For each owner (an OPCO, "f", or a cohort, "c"),
each dimension of a dashboard's tables and each row of it, `rollupmember` holds one row per
learner with the number of her protocols there, and `rolluplearners` the number of those
rows: a page of one owner without filters reads its learners there instead of counting them
(the cost of a national OPCO's page no longer follows its number of protocols).

The upkeep runs in the settle of the protocols (afest.dashboards.rollups.refresh_protocols),
from the same old and new facts as the cells: a membership whose protocols go from 0 to some
adds a learner to its row, one that falls to 0 takes her away. That reads the memberships
before it writes them, so on PostgreSQL the settles that keep them take their turn (a
transaction-level advisory lock); SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import func, literal, select

from afest.core.database import insert_on_conflict
from afest.models.rollup import rollup_learners, rollup_member, rollup_protocol

IN_PROGRESS = "in_progress"
MEMBERS_LOCK = 7301_0001  # pg_advisory_xact_lock key of the settles that keep memberships
rp = rollup_protocol

# a dimension of the memberships → the facts' column that keys it (None: the total)
COLUMN_OF = {
    "total": None,
    "status": "status",
    "paused": "paused",
    "structure": "structure_id",
    "dept": "departement",
    "ref": "referential_id",
    "month": "month",
}
DIMENSION_OF = {column: dim for dim, column in COLUMN_OF.items()}
_OWNERS = (("f", "funder_id"), ("c", "cohort_id"))


def _key(row, dim: str) -> str | None:
    """The row of `dim` a fact row counts in, as text (None: it counts in none)."""
    if dim == "total":
        return ""
    if dim == "paused":
        return str(row.paused) if row.status == IN_PROGRESS else None
    return str(getattr(row, COLUMN_OF[dim]))


def memberships(row) -> Iterable[tuple[str, int, str, str, int]]:
    """(owner, owner id, dimension, key, learner) of one protocol's facts."""
    for owner, column in _OWNERS:
        owner_id = getattr(row, column)
        if not owner_id:
            continue
        for dim in COLUMN_OF:
            key = _key(row, dim)
            if key is not None:
                yield owner, owner_id, dim, key, row.learner_id


# --- full rebuild ------------------------------------------------------------------------------


def _key_column(dim: str):
    if dim == "total":
        return literal("")
    return sa.cast(rp.c[COLUMN_OF[dim]], sa.String)


def rebuild(conn) -> None:
    """Every membership and count from the protocols' facts (rollupprotocol, rebuilt first)."""
    parts = []
    for owner, column in _OWNERS:
        for dim in COLUMN_OF:
            part = select(
                literal(owner).label("owner"),
                rp.c[column].label("owner_id"),
                literal(dim).label("dim"),
                _key_column(dim).label("key"),
                rp.c.learner_id,
            ).where(rp.c[column] != 0)
            if dim == "paused":
                part = part.where(rp.c.status == IN_PROGRESS)
            parts.append(part)
    facts = sa.union_all(*parts).subquery()
    keys = [facts.c.owner, facts.c.owner_id, facts.c.dim, facts.c.key]
    conn.execute(
        rollup_member.insert().from_select(
            ["owner", "owner_id", "dim", "key", "learner_id", "protocols"],
            select(*keys, facts.c.learner_id, func.count()).group_by(*keys, facts.c.learner_id),
        )
    )
    m = rollup_member.c
    conn.execute(
        rollup_learners.insert().from_select(
            ["owner", "owner_id", "dim", "key", "learners"],
            select(m.owner, m.owner_id, m.dim, m.key, func.count()).group_by(
                m.owner, m.owner_id, m.dim, m.key
            ),
        )
    )


# --- upkeep in a settle -------------------------------------------------------------------------


def apply(conn, old, new) -> None:
    """Move the memberships and counts from the `old` facts of some protocols to their `new`
    ones (the settle's transaction)."""
    delta: dict[tuple, int] = defaultdict(int)
    for facts, sign in ((old, -1), (new, 1)):
        for row in facts:
            for membership in memberships(row):
                delta[membership] += sign
    delta = {k: v for k, v in delta.items() if v}
    if not delta:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(MEMBERS_LOCK)))
    learners = sorted({k[4] for k in delta})
    m = rollup_member.c
    before = {
        (r.owner, r.owner_id, r.dim, r.key, r.learner_id): r.protocols
        for r in conn.execute(
            select(m.owner, m.owner_id, m.dim, m.key, m.learner_id, m.protocols).where(
                m.learner_id.in_(sa.bindparam("learners", expanding=True))
            ),
            {"learners": learners},
        )
    }
    counts: dict[tuple, int] = defaultdict(int)
    for membership, change in delta.items():
        was = before.get(membership, 0)
        now = was + change
        if was == 0 and now > 0:
            counts[membership[:4]] += 1
        elif was > 0 and now == 0:
            counts[membership[:4]] -= 1
    _add(conn, rollup_member, "protocols", delta, ("owner", "owner_id", "dim", "key", "learner_id"))
    _add(conn, rollup_learners, "learners", counts, ("owner", "owner_id", "dim", "key"))


def _add(conn, table, measure: str, delta: dict[tuple, int], keys: tuple[str, ...]) -> None:
    """Add each delta to its row (made at 0 when missing); remove the rows left at 0."""
    rows = [
        {**dict(zip(keys, key, strict=True)), measure: value}
        for key, value in sorted(delta.items())
        if value
    ]
    if not rows:
        return
    stmt = insert_on_conflict(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={measure: table.c[measure] + stmt.excluded[measure]}
    )
    conn.execute(stmt, rows)
    conn.execute(table.delete().where(table.c[measure] == 0))


# --- reading --------------------------------------------------------------------------------


def kept_owner(scope_shape: tuple[bool, ...], params: dict) -> tuple[str, int] | None:
    """The one owner whose kept counts answer a page of this shape (learners.shape), or None
    when the page needs counting: several owners, one structure, or any filter."""
    funders, cohorts, structure, whole, *filters = scope_shape
    if structure or whole or any(filters):
        return None
    if funders and not cohorts and len(params["funders"]) == 1:
        return "f", params["funders"][0]
    if cohorts and not funders and len(params["cohorts"]) == 1:
        return "c", params["cohorts"][0]
    return None


# Past this many keys, a dimension's rows are read whole and picked here: a long IN list
# costs more to send and plan than the rows (on PostgreSQL, 274 keys 7.8 ms, the 940 rows
# of a national OPCO's structures 1.7 ms).
KEYS_IN_QUERY = 32


def counts(conn, owner: tuple[str, int], dims: Iterable[str], keys: Iterable | None = None):
    """{dimension: {key as text: learners}} of an owner's rows (only `keys` if given)."""
    c = rollup_learners.c
    dims = sorted(set(dims))
    query = select(c.dim, c.key, c.learners).where(
        c.owner == owner[0], c.owner_id == owner[1], c.dim.in_(dims)
    )
    values, wanted = {}, None
    if keys is not None:
        wanted = {str(k) for k in keys}
        if len(wanted) <= KEYS_IN_QUERY:
            values["keys"] = sorted(wanted)
            query = query.where(c.key.in_(sa.bindparam("keys", expanding=True)))
    out: dict[str, dict[str, int]] = {dim: {} for dim in dims}
    for dim, key, learners in conn.execute(query, values):
        if wanted is None or key in wanted:
            out[dim][key] = learners
    return out
