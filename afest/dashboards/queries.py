"""Cross-structure dashboards (OPCO, cohort) and the structure drill-down, read from rollups.

Every figure comes from a GROUP BY over the rollup cells (afest/models/rollup.py) of the
viewer's scope, so a dashboard costs a few queries over at most structures × référentiels
(× months when a period is chosen) rows, whatever the number of sequences behind them.

Small cells: in a cross-structure view, a row about fewer than k learners is hidden for a
viewer who is not entitled to those learners' records (policy.sees_learner_records), and so
is a complementary row wherever the hidden one could be recomputed from a total shown (in
each table, and among the structures of a département). Learner counts in the cells count a
learner once, under their most recent protocol: a lower bound for any row, so a row whose
count reaches k is safe; a row with fewer than k protocols is not; in between, the exact
number of distinct learners is counted from the per-protocol facts of those rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import cache

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlmodel import Session

from afest import policy
from afest.dashboards.board import (
    PAGE_SIZE,
    Dashboard,
    Filters,
    Row,
    Scope,
    Table,
)
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


def _shape(scope: Scope, filters: Filters) -> tuple[bool, ...]:
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


def _params(scope: Scope, filters: Filters) -> dict:
    return {
        "funders": sorted(scope.funder_ids),
        "cohorts": sorted(scope.cohort_ids),
        "structure": scope.structure_id,
        "dept": filters.departement,
        "ref": filters.referential_id,
        "mfrom": filters.month_from,
        "mto": filters.month_to,
    }


def _conditions(table, grain: str, shape: tuple[bool, ...]) -> list:
    funders, cohorts, structure, whole, dept, ref, mfrom, mto = shape
    owners = []
    if funders:
        owners.append(table.c.funder_id.in_(sa.bindparam("funders", expanding=True)))
    if cohorts:
        owners.append(table.c.cohort_id.in_(sa.bindparam("cohorts", expanding=True)))
    clauses = [table.c.grain == grain]
    if not whole:
        clauses.append(sa.or_(*owners) if owners else sa.false())
    if structure:
        clauses.append(table.c.structure_id == sa.bindparam("structure"))
    if dept:
        clauses.append(table.c.departement == sa.bindparam("dept"))
    if ref:
        clauses.append(table.c.referential_id == sa.bindparam("ref"))
    if mfrom and grain.rstrip("fc") in MONTHLY:
        clauses.append(table.c.month >= sa.bindparam("mfrom"))
    if mto and grain.rstrip("fc") in MONTHLY:
        clauses.append(table.c.month <= sa.bindparam("mto"))
    return clauses


@cache
def _statement(kind: str, grain: str, shape: tuple[bool, ...]):
    """The query of one part of a dashboard (built once: building costs more than running)."""
    where = _conditions(rollup_vae_cell if kind == "vae" else rollup_cell, grain, shape)
    cell = rollup_cell.c
    if kind == "totals":
        return select(*_sums(PROTOCOL_MEASURES)).where(*where)
    if kind == "vae":
        return select(*_sums(VAE_FIGURES, rollup_vae_cell)).where(*where)
    if kind == "structures":
        inner = (
            select(cell.structure_id.label("key"), *_sums(TABLE_MEASURES))
            .where(*where)
            .group_by(cell.structure_id)
            .subquery()
        )
        return (
            select(inner, Organisation.name, Organisation.public_id, Organisation.departement)
            .join(Organisation, Organisation.id == inner.c.key)
            .order_by(Organisation.name)
        )
    if kind == "blocks":
        inner = (
            select(cell.block_id.label("key"), *_sums(TABLE_MEASURES))
            .where(*where)
            .group_by(cell.block_id)
            .subquery()
        )
        return (
            select(inner, CompetenceBlock.code, CompetenceBlock.title)
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
                    Referential.id, Referential.code, Referential.title, Referential.short
                ).order_by(Referential.code)
            )
            .all()
        )
    return session.info["dashboards.referentials"]


def _referential_labels(session: Session) -> dict[int, str]:
    return {r.id: f"{r.short or r.code} ({r.code})" for r in _referentials(session)}


def build(
    session: Session,
    *,
    scope: Scope,
    filters: Filters,
    k: int,
    protect: Callable[[int], bool] | None = None,
    page: int = 1,
) -> Dashboard:
    """Every table of a dashboard; `protect(structure_id)` says whose small cells to hide
    (None: a single-structure view of an entitled viewer, nothing hidden)."""
    conn = session.connection()
    shape, params = _shape(scope, filters), _params(scope, filters)

    def run(kind: str):
        return conn.execute(_statement(kind, _grain(scope, filters, kind), shape), params)

    totals = Row(None, "total", dict(run("totals").one()._mapping))
    structures = [
        Row(r.key, r.name, r._mapping, public_id=r.public_id, group=r.departement or "")
        for r in run("structures")
    ]
    departements = [Row(r.key, r.key or "—", r._mapping) for r in run("departements")]
    refs = _referential_labels(session)
    referentials = [Row(r.key, refs.get(r.key, "?"), r._mapping) for r in run("referentials")]
    months = [Row(r.key, month_label(r.key), r._mapping) for r in run("months")]
    blocks = [Row(r.key, f"{r.code} — {r.title}", r._mapping) for r in run("blocks")]
    vae = Row(None, "vae", dict(run("vae").one()._mapping))
    jury = [Row(r, r, {"pathways": vae.get(f"jury_{r}")}) for r in JURY_KEYS]

    board = Dashboard(
        totals=totals,
        structures=Table("structures", structures),
        departements=Table("departements", departements),
        referentials=Table("referentials", referentials),
        months=Table("months", months),
        blocks=Table("blocks", blocks),
        vae=vae,
        jury=jury,
        k=k,
        filters=filters,
    )
    if protect is not None:
        hide_small_cells(session, board, scope, filters, k, protect)
    _paginate(board.structures, page)
    return board


def _paginate(table: Table, page: int) -> None:
    table.all_rows = table.rows
    table.total = len(table.rows)
    table.pages = max(1, -(-table.total // PAGE_SIZE))
    table.page = min(max(1, page), table.pages)
    start = (table.page - 1) * PAGE_SIZE
    table.rows = table.rows[start : start + PAGE_SIZE]


# --- filters from the URL ----------------------------------------------------------------


def known_departements(session: Session, scope: Scope) -> list[str]:
    query = (
        select(rollup_cell.c.departement)
        .where(rollup_cell.c.grain == "d" + _family(scope), *scope.where(rollup_cell))
        .distinct()
        .order_by(rollup_cell.c.departement)
    )
    return [d for d in session.connection().scalars(query) if d]


def referential_choices(session: Session) -> list[tuple[str, str]]:
    return [(r.code, f"{r.code} — {r.title}") for r in _referentials(session)]


def referential_id(session: Session, code: str) -> int | None:
    return next((r.id for r in _referentials(session) if r.code == code), None)


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
