"""Cross-structure dashboards (OPCO, cohort) and the structure drill-down, read from rollups.

Every figure but the learners comes from a GROUP BY over the rollup cells
(afest/models/rollup.py) of the viewer's scope, so a dashboard costs a few queries over at
most structures × référentiels (× months when a period is chosen) rows, whatever the number
of sequences behind them. Learners are counted distinct in every row (afest.dashboards.
learners), from the per-protocol facts. Of the structures, one pass over their summed cells
decides which are hidden, their order and the page; only the page's rows have their learners
counted and are rendered.

Small cells: afest.dashboards.smallcells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload
from sqlmodel import Session

from afest import policy
from afest.dashboards import learners
from afest.dashboards.board import (
    PAGE_SIZE,
    PAUSED_NAME,
    STATUS_NAMES,
    STATUS_VALUES,
    Dashboard,
    Filters,
    Listing,
    Row,
    Scope,
    Table,
)
from afest.dashboards.rollups import BLOCK_GRAINS, GRAINS
from afest.dashboards.smallcells import hide_small_cells
from afest.models import CompetenceBlock, Organisation, Protocol, Referential, User
from afest.models.rollup import (
    JURY_KEYS,
    PROTOCOL_MEASURES,
    rollup_cell,
    rollup_vae_cell,
)

MONTHLY = frozenset({"sm", "m", "n", "smb", "mb"})


def _grain(scope: Scope, filters: Filters, table: str) -> str:
    """The smallest rollup grain that holds what `table` needs under these filters."""
    return _base_grain(scope, filters, table) + _family(scope)


def _family(scope: Scope) -> str:
    if scope.whole_structure and scope.structure_id is not None:
        return "f"  # every protocol of the structure, each counted once
    if scope.funder_ids and not scope.cohort_ids:
        return "f"
    if scope.cohort_ids and not scope.funder_ids:
        return "c"
    return ""


def _base_grain(scope: Scope, filters: Filters, table: str) -> str:
    if scope.structure_id is not None:  # one structure: its own cells
        base = "sm" if filters.period or table == "months" else "s"
        return base + "b" if table == "blocks" else base
    if table == "structures":
        return "sm" if filters.period else "s"
    if table == "blocks":
        return "mb" if filters.period else "db"
    if table == "months":
        return "m" if filters.departement else "n"
    return "m" if filters.period else "d"  # totals, départements, référentiels, VAE


TABLE_MEASURES = (
    "learners",
    "protocols",
    "p_completed",
    "targeted",
    "acquired",
    "planned_sequences",
    "planned_minutes",
    "done_sequences",
    "done_minutes",
    "compliant",
)
VAE_FIGURES = tuple(
    c.name for c in rollup_vae_cell.c if c.name.startswith(("pathways", "r_", "jury_"))
)


def _sums(measures: Iterable[str], table=rollup_cell):
    return [func.coalesce(func.sum(table.c[m]), 0).label(m) for m in measures]


# the value a cell holds in a dimension its grain does not keep (afest.dashboards.rollups)
UNKEPT = {
    "funder": ("funder_id", -1),
    "cohort": ("cohort_id", -1),
    "structure": ("structure_id", 0),
    "dept": ("departement", ""),
    "month": ("month", 0),
}


def _conditions(table, grain: str, shape: tuple[bool, ...], *, unkept: bool = False) -> list:
    """The cells of `grain` in the scope and filters. `unkept`: the values of the dimensions
    the grain does not keep are stated too; always true, they let the primary key reach a
    few structures' cells (a page's) on PostgreSQL instead of every cell of the funder."""
    keep = {**GRAINS, **BLOCK_GRAINS}[grain]
    fixed = [table.c[c] == v for d, (c, v) in UNKEPT.items() if d not in keep] if unkept else []
    return [
        table.c.grain == grain,
        *fixed,
        *learners.conditions(table, shape, months=grain.rstrip("fc") in MONTHLY),
    ]


# What the structure table needs of every structure in scope: enough to decide which are
# hidden (afest.dashboards.smallcells), to search them and to order them by `sort`
# (Listing.sort). Only the rows of the page shown are then read in full.
INDEX_MEASURES = ("learners", "protocols")
SORT_MEASURES = {
    "completion": ("acquired", "targeted"),
    "heures": ("done_minutes",),
    "conformite": ("compliant",),
}


def index_measures(sort: str) -> tuple[str, ...]:
    return INDEX_MEASURES + SORT_MEASURES.get(sort, ())


@cache
def _statement(kind: str, grain: str, shape: tuple[bool, ...], measures=TABLE_MEASURES):
    """The query of one part of a dashboard (built once: building costs more than running).
    "structures": every structure's `measures` (and what names and places it); "page": the
    structures of the `keys` parameter, in full."""
    table = rollup_vae_cell if kind == "vae" else rollup_cell
    where = _conditions(table, grain, shape, unkept=kind == "page")
    cell = rollup_cell.c
    if kind == "totals":
        return select(*_sums(PROTOCOL_MEASURES)).where(*where)
    if kind == "vae":
        return select(*_sums(VAE_FIGURES, rollup_vae_cell)).where(*where)
    if kind in ("structures", "page"):
        if kind == "page":
            where.append(cell.structure_id.in_(bindparam("keys", expanding=True)))
        inner = (
            select(cell.structure_id.label("key"), *_sums(measures))
            .where(*where)
            .group_by(cell.structure_id)
            .subquery()
        )
        return select(
            inner,
            Organisation.name,
            Organisation.siret,
            Organisation.public_id,
            Organisation.departement,
        ).join(Organisation, Organisation.id == inner.c.key)
    if kind == "blocks":
        inner = (
            select(cell.block_id.label("key"), *_sums(TABLE_MEASURES))
            .where(*where)
            .group_by(cell.block_id)
            .subquery()
        )
        return (
            select(
                inner, CompetenceBlock.code, CompetenceBlock.title, CompetenceBlock.referential_id
            )
            .join(CompetenceBlock, CompetenceBlock.id == inner.c.key)
            .order_by(CompetenceBlock.code)
        )
    column = {"departements": cell.departement, "referentials": cell.referential_id}.get(
        kind, cell.month
    )
    return (
        select(column.label("key"), *_sums(TABLE_MEASURES))
        .where(*where)
        .group_by(column)
        .order_by(column)
    )


def month_label(month: int) -> str:
    return f"{month // 100:04d}-{month % 100:02d}"


def _referentials(session: Session) -> list:
    """The référentiels, read once per session (filters, labels and codes all need them)."""
    if "dashboards.referentials" not in session.info:
        session.info["dashboards.referentials"] = (
            session.connection()
            .execute(
                select(
                    Referential.id,
                    Referential.code,
                    Referential.title,
                    Referential.short,
                    Referential.version,
                ).order_by(Referential.code, Referential.version)
            )
            .all()
        )
    return session.info["dashboards.referentials"]


def _referential_labels(session: Session) -> dict[int, str]:
    """A référentiel's name in a table; a revised fiche's versions apart ("v2")."""
    return {
        r.id: f"{r.short or r.code} ({r.code}{f', v{r.version}' if r.version > 1 else ''})"
        for r in _referentials(session)
    }


def _row(key, label: str, record, names=TABLE_MEASURES, **extra) -> Row:
    """A table row from a result row whose figures follow its key: the rollup's learner count
    (each learner under her latest protocol, a lower bound of any row's) kept as `latest`."""
    values = dict(zip(names, record[1 : 1 + len(names)], strict=True))
    values["latest"] = values.get("learners", 0)
    return Row(key, label, values, **extra)


def _structure(record: tuple, names: tuple[str, ...]) -> Row:
    """A structure's row from (key, *names' figures, name, SIRET, public id, département)."""
    key, *figures, name, siret, public_id, departement = record
    values = dict(zip(names, figures, strict=True))
    values["latest"] = values["learners"]
    return Row(key, name, values, public_id=public_id, group=departement or "", siret=siret)


def plan_for_values(conn) -> None:
    """On PostgreSQL, the statements of this transaction are planned for the values they are
    run with. psycopg prepares a statement once it has run five times, and PostgreSQL then
    keeps one plan for any owner, made for an average one; an OPCO funding a thousand
    structures holds hundreds of times the cells of the average owner, and that plan read
    all of them to keep a page's 25 structures (4.0 ms, against 0.9 ms planned for its own
    values; its learner counts 1.5 against 0.9 ms). The pages of a tutor or a manager keep
    their prepared plans: planning each of their statements anew made them 3 to 7 ms
    slower."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


def build(
    session: Session,
    *,
    scope: Scope,
    filters: Filters,
    k: int,
    protect: Callable[[int], bool] | None = None,
    listing: Listing = Listing(),
) -> Dashboard:
    """Every table of a dashboard; `protect(structure_id)` says whose small cells to hide
    (None: a viewer entitled to every learner's records in it, nothing hidden); `listing`:
    which structures the structure table lists."""
    conn = session.connection()
    plan_for_values(conn)
    shape, params = learners.shape(scope, filters), learners.params(scope, filters)
    count = learners.Learners(conn, scope, filters)

    def run(kind: str, measures=TABLE_MEASURES, **values):
        grain = _grain(scope, filters, "structures" if kind == "page" else kind)
        return conn.execute(_statement(kind, grain, shape, measures), {**params, **values})

    totals = Row(None, "total", dict(run("totals").one()._mapping))
    totals.values["latest"] = totals.get("learners")
    # The référentiel and month tables of a page show no learners: only their rows near the
    # threshold are counted (for the small-cell rule); an export counts them all.
    unshown = () if listing.page is not None else ("referential_id", "month")
    exact = count.tables((None, "status", "paused", "departement", *unshown))
    totals.values["learners"] = exact[None].get(None, 0)
    statuses = _statuses(totals, exact["status"])
    paused = _paused(totals, exact["paused"])
    # a page: what decides and orders the structures, of them all; an export: everything
    indexed = index_measures(listing.sort) if listing.page is not None else TABLE_MEASURES
    structures = [_structure(r, indexed) for r in run("structures", indexed).all()]
    departements = [_row(r.key, r.key or "—", r) for r in run("departements")]
    refs = _referential_labels(session)
    referentials = [_row(r.key, refs.get(r.key, "?"), r) for r in run("referentials")]
    months = [_row(r.key, month_label(r.key), r) for r in run("months")]
    for rows, column in (
        (departements, "departement"),
        (referentials, "referential_id"),
        (months, "month"),
    ):
        if column not in exact:
            exact[column] = count.by(column, [r.key for r in rows if r.get("latest") < k])
        for row in rows:
            row.values["learners"] = exact[column].get(row.key, row.get("latest"))
    # a block's référentiel, as text like a structure's département (smallcells: its block
    # rows may add up to its row)
    blocks = [
        _row(r.key, f"{r.code} — {r.title}", r, group=str(r.referential_id)) for r in run("blocks")
    ]
    if listing.page is None:  # an export shows the blocks' learners (a page does not): distinct
        distinct = count.of_blocks(r.key for r in blocks)
        for row in blocks:
            row.values["learners"] = distinct.get(row.key, 0)
    vae = Row(None, "vae", dict(run("vae").one()._mapping))
    jury = [Row(r, r, {"pathways": vae.get(f"jury_{r}")}) for r in JURY_KEYS]

    board = Dashboard(
        totals=totals,
        statuses=Table("statuses", statuses),
        paused=paused,
        structures=Table("structures", structures),
        departements=Table("departements", departements),
        referentials=Table("referentials", referentials),
        months=Table("months", months),
        blocks=Table("blocks", blocks),
        vae=vae,
        jury=jury,
        k=k,
        filters=filters,
        listing=listing,
    )
    if protect is not None:
        hide_small_cells(count, board, k, protect)
    _list_structures(board.structures, listing, count)
    if indexed != TABLE_MEASURES and board.structures.rows:
        page = {r.key: r for r in board.structures.rows}
        for record in run("page", keys=sorted(page)):
            row = page[record.key]
            counted = row.get("learners")  # distinct, by _list_structures
            row.values = _row(record.key, row.label, record).values | {"learners": counted}
    return board


def _statuses(totals: Row, exact: dict) -> list[Row]:
    """One row per protocol status: its protocols, and the learners with one in it."""
    return [
        Row(
            value,
            str(STATUS_NAMES[key]),
            {"protocols": totals.get(f"p_{key}"), "learners": exact.get(value, 0)},
        )
        for key, value in STATUS_VALUES.items()
    ]


def _paused(totals: Row, split: dict) -> Row:
    """The paused protocols among those in progress; `others`: the learners of the rest."""
    return Row(
        "paused",
        str(PAUSED_NAME),
        {"protocols": totals.get("paused"), "learners": split.get(1, 0), "others": split.get(0, 0)},
    )


def _sort_key(sort: str):
    def ratio(num: str, den: str):
        return lambda r: r.get(num) / r.get(den) if r.get(den) else -1.0

    return {
        "apprenants": lambda r: r.get("learners"),
        "protocoles": lambda r: r.get("protocols"),
        "completion": ratio("acquired", "targeted"),
        "heures": lambda r: r.get("done_minutes"),
        "conformite": ratio("compliant", "protocols"),
    }[sort]


def _list_structures(table: Table, listing: Listing, count: learners.Learners) -> None:
    """Keep the structures the listing asks for, in its order, its page only (all of them for
    an export); the learners of the rows kept alone are counted.

    Sorted by a figure, the hidden rows come last, by name, so that their place says nothing
    of their figures."""
    rows = table.rows
    if listing.search:
        needle = listing.search.casefold()
        rows = [r for r in rows if needle in r.label.casefold() or listing.search == r.siret]
    by_name = sorted(rows, key=lambda r: (r.label.casefold(), r.key))
    if listing.sort == "apprenants":
        exact = count.by("structure_id")
        for row in by_name:
            row.values["learners"] = exact.get(row.key, 0)
    if listing.sort == "nom":
        rows = by_name[::-1] if listing.descending else by_name
    else:
        shown = [r for r in by_name if not r.hidden]
        shown.sort(key=_sort_key(listing.sort), reverse=listing.descending)
        rows = shown + [r for r in by_name if r.hidden]
    table.total = len(rows)
    if listing.page is None:
        table.pages = table.page = 1
    else:
        table.pages = max(1, -(-table.total // PAGE_SIZE))
        table.page = min(listing.page, table.pages)
        start = (table.page - 1) * PAGE_SIZE
        rows = rows[start : start + PAGE_SIZE]
    if listing.sort != "apprenants":
        exact = count.by("structure_id", [r.key for r in rows])
        for row in rows:
            row.values["learners"] = exact.get(row.key, 0)
    table.rows = rows


# --- filters from the URL ----------------------------------------------------------------


def known_departements(session: Session, scope: Scope) -> list[str]:
    query = (
        select(rollup_cell.c.departement)
        .where(rollup_cell.c.grain == "d" + _family(scope), *scope.where(rollup_cell))
        .distinct()
        .order_by(rollup_cell.c.departement)
    )
    return [d for d in session.connection().scalars(query) if d]


def _filter_values(session: Session) -> dict[str, object]:
    """The filter's value of each référentiel: its code for its newest version, and
    "<code>@v<n>" for an older version of a revised fiche (each is filtered apart, as the
    rollups count them apart)."""
    rows = _referentials(session)
    newest = {r.code: r.version for r in rows}  # ordered by code, then version
    return {r.code if r.version == newest[r.code] else f"{r.code}@v{r.version}": r for r in rows}


def referential_choices(session: Session) -> list[tuple[str, str]]:
    return [
        (
            value,
            f"{r.code}{f' v{r.version}' if r.version > 1 or value != r.code else ''} — {r.title}",
        )
        for value, r in _filter_values(session).items()
    ]


def referential_id(session: Session, code: str) -> int | None:
    found = _filter_values(session).get(code)
    return found.id if found is not None else None


def parse_month(text: str) -> int | None:
    """'2026-03' → 202603; None when it is not a month."""
    try:
        year, month = (int(part) for part in text.split("-"))
        date(year, month, 1)
    except (ValueError, TypeError):
        return None
    return year * 100 + month if 1900 <= year <= 2999 else None


def structure_protocols(session: Session, actor, structure_id: int, limit: int = 200) -> list:
    """(protocol, learner's name, référentiel's code) of a structure's latest protocols that
    the actor may see, for the drill-down."""
    return list(
        session.exec(
            select(Protocol, User.full_name, Referential.code)
            .join(User, User.id == Protocol.learner_id)
            .join(Referential, Referential.id == Protocol.referential_id)
            .where(Protocol.structure_id == structure_id, policy.protocol_visible(actor))
            .options(selectinload(Protocol.open_pause))  # its "paused" badge
            .order_by(Protocol.planned_start.desc(), Protocol.id.desc())
            .limit(limit)
        )
    )
