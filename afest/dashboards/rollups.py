"""Keep the dashboard rollups current on write, and rebuild them from scratch.

Every write that changes what a protocol or a VAE pathway contributes to the dashboards calls
one hook here (`on_sequence_logged`, `on_protocol_status_changed`, ...).

- A protocol hook only *marks* the protocol (one upsert into `rolluppending`, in the writer's
  transaction): saving a sequence sits on the tablet's critical path. Whoever reads the
  rollups next calls `settle` first, which refreshes every marked protocol at once.
- Refreshing recomputes the protocols' fact rows with the same SQL the full rebuild uses
  (afest/dashboards/rollup_facts.py), restricted to them, and adds the difference between the
  old and the new facts to the cells of every grain: the same grouping as the rebuild's, over
  the old facts signed −1 and the new ones +1, one set-based statement per grain. A pathway
  hook refreshes at once.

Hence the invariant the tests check: after any sequence of writes and a settle, the rollups
equal a full rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import sqlalchemy as sa
from sqlalchemy import func, literal_column, or_, select
from sqlmodel import Session

from afest.core.database import insert_on_conflict
from afest.dashboards import members
from afest.dashboards.rollup_facts import IDS, block_facts, pathway_facts, protocol_facts
from afest.models import Protocol, VaePathway
from afest.models.rollup import (
    BLOCK_MEASURES,
    DIMENSIONS,
    PROTOCOL_MEASURES,
    ROLLUP_TABLES,
    VAE_MEASURES,
    rollup_block_pattern,
    rollup_cell,
    rollup_learners,
    rollup_member,
    rollup_pathway,
    rollup_pending,
    rollup_protocol,
    rollup_protocol_block,
    rollup_vae_cell,
)

# grain → the optional dimensions it keeps (the référentiel is always kept). Each grain comes
# in three families: keyed by funder and cohort (mixed scopes); "f", by funder only (cohort
# -1: the OPCO view); "c", by cohort only (funder -1: the cohort view). A view reads the
# family of its scope, so that its rows are not split by the other dimension.
_BASE = {
    "s": ("structure", "dept"),
    "sm": ("structure", "dept", "month"),
    "d": ("dept",),
    "m": ("dept", "month"),
    "n": ("month",),
}
_BLOCK_BASE = {
    "sb": ("structure", "dept"),
    "smb": ("structure", "dept", "month"),
    "db": ("dept",),
    "mb": ("dept", "month"),
}


def _families(base: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    out = {}
    for grain, keep in base.items():
        out[grain] = ("funder", "cohort", *keep)
        out[grain + "f"] = ("funder", *keep)
        out[grain + "c"] = ("cohort", *keep)
    return out


GRAINS = _families(_BASE)
BLOCK_GRAINS = _families(_BLOCK_BASE)
CELL_KEYS = ("grain", *DIMENSIONS, "block_id")
VAE_CELL_KEYS = ("grain", *DIMENSIONS)


# --- full rebuild ------------------------------------------------------------------------------


def _dims_for(source, keep: tuple[str, ...]):
    return [
        source.c.funder_id if "funder" in keep else literal_column("-1"),
        source.c.cohort_id if "cohort" in keep else literal_column("-1"),
        source.c.structure_id if "structure" in keep else literal_column("0"),
        source.c.departement if "dept" in keep else literal_column("''"),
        source.c.referential_id,
        source.c.month if "month" in keep else literal_column("0"),
    ]


def _in_family(source, keep: tuple[str, ...]):
    """The facts a grain keeps cells of: all, but in the cohort family those in a cohort. No
    view reads a cohort-family cell of cohort 0 (a cohort view reads the cohorts it follows),
    and four in five protocols are in no cohort: a third fewer cells to keep."""
    return [source.c.cohort_id != 0] if "cohort" in keep and "funder" not in keep else []


def _grouped(source, grain: str, keep: tuple[str, ...], measures, *, block=None, signed=False):
    """The cells of `grain`: the sums of `measures` over the facts of `source`, by the
    dimensions the grain keeps (a select of grain, dimensions, [block,] measures). `block`:
    the block column of the cells (the source's `block_id`, or 0 for protocol cells; None for
    VAE cells, which have none). `signed`: `source` holds the old facts of some protocols with
    sign −1 and their new ones with sign +1 (a settle), and only the cells they change are
    selected, with the difference."""
    dims = _dims_for(source, keep)
    grouping = [d for d in dims if d.table is not None]
    blocks = [] if block is None else [block]
    grouping += [b for b in blocks if b.table is not None]
    sums = [func.sum(source.c[m] * source.c.sign if signed else source.c[m]) for m in measures]
    query = (
        select(literal_column(f"'{grain}'"), *dims, *blocks, *sums)
        .where(*_in_family(source, keep))
        .group_by(*grouping)
    )
    # in key order: two settles moving overlapping cells lock them in the same order
    # (PostgreSQL), so they queue instead of deadlocking
    return query.having(or_(*(x != 0 for x in sums))).order_by(*grouping) if signed else query


def _block_facts(facts, blocks, *where, sign: int | None = None):
    """One row per protocol of `facts` and block it targets: the protocol's dimensions and
    latest-learner flag, and the block's figures (a protocol counts once per block)."""
    signs = [] if sign is None else [literal_column(str(sign)).label("sign")]
    return (
        select(
            *signs,
            *(facts.c[d] for d in DIMENSIONS),
            facts.c.learners,
            literal_column("1").label("protocols"),
            blocks.c.block_id,
            blocks.c.targeted,
            blocks.c.acquired,
        )
        .select_from(blocks.join(facts, facts.c.protocol_id == blocks.c.protocol_id))
        .where(*where)
    )


# the block patterns kept per owner (rollupblockpattern): (family, the facts' owner column)
PATTERN_OWNERS = (("f", "funder_id"), ("c", "cohort_id"))
PATTERN_KEYS = ("owner", "owner_id", "referential_id", "blockset")
PATTERN_MEASURES = ("protocols", "latest")


def _patterns(source, owner: str, column: str, *, signed: bool = False):
    """The block patterns of the family `owner`: the facts of `source` of an owner (not 0)
    grouped by owner, référentiel and the blocks they target, with how many protocols and how
    many of them their learner's latest. `signed`: `source` holds old facts with sign −1 and
    new ones +1 (a settle), and only the patterns they change are selected, with the
    difference."""
    grouping = [source.c[column], source.c.referential_id, source.c.blockset]
    if signed:
        sums = [func.sum(source.c.sign), func.sum(source.c.sign * source.c.learners)]
    else:
        sums = [func.count(), func.sum(source.c.learners)]
    query = (
        select(literal_column(f"'{owner}'"), *grouping, *sums)
        .where(source.c[column] != 0)
        .group_by(*grouping)
    )
    # in key order, as the cells: concurrent settles lock the rows they share in one order
    return query.having(or_(*(x != 0 for x in sums))).order_by(*grouping) if signed else query


PROTOCOL_CELL = ["grain", *DIMENSIONS, "block_id", *PROTOCOL_MEASURES]
BLOCK_CELL = ["grain", *DIMENSIONS, "block_id", *BLOCK_MEASURES]


def rebuild(session: Session) -> dict[str, int]:
    """Recompute every rollup from the source tables; return the rows written per table."""
    conn = session.connection()
    for table in (
        rollup_pending,
        rollup_cell,
        rollup_vae_cell,
        rollup_member,
        rollup_learners,
        rollup_block_pattern,
        rollup_protocol_block,
        rollup_protocol,
        rollup_pathway,
    ):
        conn.execute(table.delete())
    conn.execute(
        rollup_protocol_block.insert().from_select(
            ["protocol_id", "block_id", "targeted", "acquired"], block_facts()
        )
    )
    facts = protocol_facts()
    conn.execute(
        rollup_protocol.insert().from_select([c.name for c in facts.selected_columns], facts)
    )
    members.rebuild(conn)
    for owner, column in PATTERN_OWNERS:
        conn.execute(
            rollup_block_pattern.insert().from_select(
                [*PATTERN_KEYS, *PATTERN_MEASURES], _patterns(rollup_protocol, owner, column)
            )
        )
    vae_facts = pathway_facts()
    conn.execute(
        rollup_pathway.insert().from_select([c.name for c in vae_facts.selected_columns], vae_facts)
    )
    zero = literal_column("0")
    for grain, keep in GRAINS.items():
        conn.execute(
            rollup_cell.insert().from_select(
                PROTOCOL_CELL,
                _grouped(rollup_protocol, grain, keep, PROTOCOL_MEASURES, block=zero),
            )
        )
        conn.execute(
            rollup_vae_cell.insert().from_select(
                ["grain", *DIMENSIONS, *VAE_MEASURES],
                _grouped(rollup_pathway, grain, keep, VAE_MEASURES),
            )
        )
    by_block = _block_facts(rollup_protocol, rollup_protocol_block).subquery()
    for grain, keep in BLOCK_GRAINS.items():
        conn.execute(
            rollup_cell.insert().from_select(
                BLOCK_CELL,
                _grouped(by_block, grain, keep, BLOCK_MEASURES, block=by_block.c.block_id),
            )
        )
    session.flush()
    return {
        t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
        for t in (
            rollup_protocol,
            rollup_protocol_block,
            rollup_pathway,
            rollup_cell,
            rollup_vae_cell,
            rollup_member,
            rollup_learners,
            rollup_block_pattern,
        )
    }


def refresh_statistics(engine, *, whole_database: bool = False) -> None:
    """After a rebuild, outside its transaction: the planner's statistics of the rollup
    tables, and on PostgreSQL their visibility map (what index-only scans need), are brought
    up to date now rather than at autovacuum's next pass. Until then, a national OPCO's
    learner counts took 53 ms instead of 14 on PostgreSQL. `whole_database`: every table
    (a database just loaded in bulk)."""
    names = [] if whole_database else [t.name for t in ROLLUP_TABLES]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(names)}".strip())
    else:
        with engine.begin() as conn:
            for name in names or [""]:
                conn.exec_driver_sql(f"ANALYZE {name}".strip())


# --- incremental upkeep -----------------------------------------------------------------------

# The new facts of the protocols (or pathways) a settle refreshes, computed once into tables
# of the connection's own (temporary, emptied at commit on PostgreSQL), so that the cells
# move by one set-based statement per grain: the sums of the new facts minus the old ones.
_SCRATCH = sa.MetaData()


def _scratch(name: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(
        name, _SCRATCH, *columns, prefixes=["TEMPORARY"], postgresql_on_commit="DELETE ROWS"
    )


def _like(table: sa.Table, names: Iterable[str] | None = None) -> list[sa.Column]:
    """Columns as `table`'s (all of them, or those of `names`), for a scratch table."""
    return [sa.Column(c.name, c.type) for c in table.c if names is None or c.name in names]


_new_protocols = _scratch("settleprotocol", *_like(rollup_protocol))
_new_blocks = _scratch("settleprotocolblock", *_like(rollup_protocol_block))
_new_pathways = _scratch("settlepathway", *_like(rollup_pathway))
# the old facts with sign −1 and the new ones with sign +1, by protocol (with the blocks it
# targets) and by block
_changes = _scratch(
    "settlechange",
    sa.Column("sign", sa.Integer),
    *_like(rollup_protocol, {*DIMENSIONS, "blockset", *PROTOCOL_MEASURES}),
)
_block_changes = _scratch(
    "settleblockchange",
    sa.Column("sign", sa.Integer),
    *_like(rollup_protocol, {*DIMENSIONS, "learners", "protocols"}),
    *_like(rollup_protocol_block, {"block_id", "targeted", "acquired"}),
)


def _staged(scratch: sa.Table, rows):
    """The statement filling `scratch` with the rows `rows` selects."""
    return scratch.insert().from_select([c.name for c in rows.selected_columns], rows)


def _signed(new, old, columns, *old_where):
    """The new facts with sign +1 and the old ones with sign −1, as one select."""
    return sa.union_all(
        select(literal_column("1").label("sign"), *(new.c[c] for c in columns)),
        select(literal_column("-1").label("sign"), *(old.c[c] for c in columns)).where(*old_where),
    )


def _moved(dialect: str, table, keys: tuple[str, ...], measures, cells):
    """The statement adding the differences `cells` selects to their cells (made at 0 when
    missing)."""
    stmt = insert_on_conflict(dialect, table).from_select([*keys, *measures], cells)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={m: table.c[m] + stmt.excluded[m] for m in measures}
    )


@cache
def _settle_statements(dialect: str) -> tuple:
    """What a settle runs, in order, for the protocols of the `ids` parameter (built once:
    building them costs more than running them)."""
    rp, rb, new, bc = rollup_protocol, rollup_protocol_block, _new_protocols, _block_changes
    old = rp.c.protocol_id.in_(IDS)
    zero = literal_column("0")
    return (
        _staged(new, protocol_facts(True)),
        _staged(_new_blocks, block_facts(True)),
        _staged(_changes, _signed(new, rp, (*DIMENSIONS, "blockset", *PROTOCOL_MEASURES), old)),
        _staged(
            bc,
            sa.union_all(
                _block_facts(new, _new_blocks, sign=1), _block_facts(rp, rb, old, sign=-1)
            ),
        ),
        *(
            _moved(
                dialect,
                rollup_cell,
                CELL_KEYS,
                PROTOCOL_MEASURES,
                _grouped(_changes, grain, keep, PROTOCOL_MEASURES, block=zero, signed=True),
            )
            for grain, keep in GRAINS.items()
        ),
        *(
            _moved(
                dialect,
                rollup_cell,
                CELL_KEYS,
                BLOCK_MEASURES,
                _grouped(bc, grain, keep, BLOCK_MEASURES, block=bc.c.block_id, signed=True),
            )
            for grain, keep in BLOCK_GRAINS.items()
        ),
        *(
            _moved(
                dialect,
                rollup_block_pattern,
                PATTERN_KEYS,
                PATTERN_MEASURES,
                _patterns(_changes, owner, column, signed=True),
            )
            for owner, column in PATTERN_OWNERS
        ),
        # The cells (patterns) no protocol counts in any more: found through an index of
        # such rows only, empty between settles (every settle removes those it empties).
        rollup_cell.delete().where(rollup_cell.c.protocols == 0),
        rollup_block_pattern.delete().where(rollup_block_pattern.c.protocols == 0),
        rb.delete().where(rb.c.protocol_id.in_(IDS)),
        rp.delete().where(old),
        _staged(rp, select(new)),
        _staged(rb, select(_new_blocks)),
    )


def refresh_protocols(session: Session, protocol_ids: Iterable[int]) -> None:
    """Recompute these protocols' facts and move the cells by the difference."""
    ids = sorted({i for i in protocol_ids if i is not None})
    if not ids:
        return
    session.flush()
    conn = session.connection()
    rp = rollup_protocol
    old = conn.execute(select(rp).where(rp.c.protocol_id.in_(ids)).with_for_update()).all()
    for scratch in (_new_protocols, _new_blocks, _changes, _block_changes):
        scratch.create(conn, checkfirst=True)  # on this connection's first settle
        conn.execute(scratch.delete())
    for statement in _settle_statements(conn.dialect.name):
        conn.execute(statement, {"ids": ids})
    members.apply(conn, old, conn.execute(select(_new_protocols)).all())


@cache
def _pathway_statements(dialect: str) -> tuple:
    """What a refresh of the VAE pathways of the `ids` parameter runs, in order."""
    rv, new = rollup_pathway, _new_pathways
    old = rv.c.pathway_id.in_(IDS)
    changed = _signed(new, rv, (*DIMENSIONS, *VAE_MEASURES), old).subquery()
    return (
        _staged(new, pathway_facts(True)),
        *(
            _moved(
                dialect,
                rollup_vae_cell,
                VAE_CELL_KEYS,
                VAE_MEASURES,
                _grouped(changed, grain, keep, VAE_MEASURES, signed=True),
            )
            for grain, keep in GRAINS.items()
        ),
        rollup_vae_cell.delete().where(rollup_vae_cell.c.pathways == 0),
        rv.delete().where(old),
        _staged(rv, select(new)),
    )


def refresh_pathways(session: Session, pathway_ids: Iterable[int]) -> None:
    """Recompute these VAE pathways' facts and move the VAE cells by the difference."""
    ids = sorted({i for i in pathway_ids if i is not None})
    if not ids:
        return
    session.flush()
    conn = session.connection()
    rv = rollup_pathway
    conn.execute(select(rv.c.pathway_id).where(rv.c.pathway_id.in_(ids)).with_for_update())
    _new_pathways.create(conn, checkfirst=True)
    conn.execute(_new_pathways.delete())
    for statement in _pathway_statements(conn.dialect.name):
        conn.execute(statement, {"ids": ids})


# --- marked protocols, settled before a read ---------------------------------------------------


MARKED = "afest.rollups_marked"  # in session.info: this transaction marked a protocol


def mark(session: Session, protocol_ids: Iterable[int]) -> None:
    """Mark protocols out of date, in the writer's transaction (one statement).

    The upsert bumps `marks` on a row already there, so on PostgreSQL it waits for a settle
    that holds that row: a mark is never absorbed by a settle that cannot see its write.
    """
    ids = sorted({i for i in protocol_ids if i is not None})
    if not ids:
        return
    upsert = insert_on_conflict(session, rollup_pending).on_conflict_do_update(
        index_elements=["protocol_id"], set_={"marks": rollup_pending.c.marks + 1}
    )
    session.execute(upsert, [{"protocol_id": i} for i in ids])
    marked(session)


def marked(session: Session) -> None:
    """This transaction marked a protocol (the settler is poked once it commits)."""
    session.info[MARKED] = True


def is_pending(session: Session) -> bool:
    return (
        session.connection().execute(select(rollup_pending.c.protocol_id).limit(1)).first()
        is not None
    )


def marked_count(session: Session) -> int:
    """How many protocols are marked and not settled yet."""
    return session.connection().execute(select(func.count()).select_from(rollup_pending)).scalar()


def drain(session: Session, limit: int = 500) -> int:
    """Refresh up to `limit` marked protocols and unmark them; return how many.

    On PostgreSQL the marks are locked in protocol order (a concurrent settle waits, then
    finds them gone; a writer marking one of them waits for this transaction).
    """
    conn = session.connection()
    query = (
        select(rollup_pending.c.protocol_id)
        .order_by(rollup_pending.c.protocol_id)
        .limit(limit)
        .with_for_update()  # SQLite has no FOR UPDATE (one writer at a time): not rendered
    )
    ids = list(conn.scalars(query))
    if ids:
        refresh_protocols(session, ids)
        conn.execute(rollup_pending.delete().where(rollup_pending.c.protocol_id.in_(ids)))
    return len(ids)


def drain_all(session: Session, limit: int = 500) -> int:
    """Settle every marked protocol inside the caller's transaction (seeding, tests)."""
    total = 0
    while done := drain(session, limit):
        total += done
    return total


def settle(db, limit: int = 500, *, known_pending: bool = False) -> int:
    """Bring the rollups up to date, in transactions of their own; return how many protocols.

    `db` is afest.core.database.Database. Nothing marked (the usual case): one read of an empty
    table, skipped when the caller has just seen marks (`known_pending`).
    """
    if not known_pending:
        with db.session() as session:
            if not is_pending(session):
                return 0
    total = 0
    while True:
        with db.session(write=True) as session:
            done = drain(session, limit)
            session.commit()
        total += done
        if done < limit:
            return total


# --- the hooks the services call, one per kind of write ---------------------------------------


def on_protocol_created(session: Session, protocol_id: int) -> None:
    """A new protocol becomes its learner's latest: the learner's other protocols change too."""
    learner = select(Protocol.learner_id).where(Protocol.id == protocol_id).scalar_subquery()
    siblings = session.connection().scalars(
        select(Protocol.id).where(Protocol.learner_id == learner)
    )
    mark(session, [protocol_id, *siblings])


def on_protocol_changed(session: Session, protocol_id: int) -> None:
    mark(session, [protocol_id])


on_protocol_status_changed = on_protocol_changed
on_plan_changed = on_protocol_changed
on_sequence_logged = on_protocol_changed
on_assessment_written = on_protocol_changed
on_evaluation_written = on_protocol_changed
on_protocol_paused = on_protocol_changed  # paused or resumed


def on_milestone_recorded(session: Session, pathway_id: int) -> None:
    refresh_pathways(session, [pathway_id])


def on_structures_changed(session: Session, structure_ids: Iterable[int]) -> None:
    """Structures moved (their département or OPCO changed): a protocol's facts read its
    structure's département, a VAE pathway's its département and OPCO. Their protocols are
    marked, their pathways refreshed at once."""
    ids = sorted({i for i in structure_ids if i is not None})
    if not ids:
        return
    session.flush()
    conn = session.connection()
    mark(session, list(conn.scalars(select(Protocol.id).where(Protocol.structure_id.in_(ids)))))
    pathways = conn.scalars(select(VaePathway.id).where(VaePathway.structure_id.in_(ids)))
    refresh_pathways(session, list(pathways))
