"""Rollup tables of the cross-structure dashboards, kept current on write.

Two levels:

- facts, one row per protocol (`rollupprotocol`, `rollupprotocolblock`) and per VAE pathway
  (`rollupvaepathway`): what that protocol or pathway contributes, recomputed from its own rows
  whenever one of them is written (a few dozen rows, whatever the size of the database);
- cells (`rollupcell`, `rollupvaecell`): the sums of those facts at a few grains, updated by
  the difference between a fact's old and new values. The dashboards read only cells, so
  their cost follows the number of structures and months shown, not the number of sequences.
  Kept the same way, per owner: the distinct learners of a page's rows (`rollupmember`,
  `rolluplearners`) and the protocols by the blocks they target (`rollupblockpattern`).

Grains (column `grain`; a dimension not in the grain is 0, '' or -1):
  "s"  structure × département × référentiel (all months)      — structure tables, drill-down
  "sm" the same × month                                         — the same with a period
  "d"  département × référentiel                                — totals, départements, référentiels
  "m"  département × référentiel × month                        — the same with a period
  "n"  référentiel × month                                      — the months table
  "sb", "smb", "db", "mb": the same × competence block         — block completion
each in three families: funder × cohort (no suffix), funder only ("f", cohort -1: the OPCO
view), cohort only ("c", funder -1: the cohort view). See afest/services/rollups.py.

Cells are written with Core statements, so they are plain Tables on the shared metadata. 0
stands for "none" in a dimension (no cohort, no funder); months are yyyymm integers of the
protocol's planned start (for a pathway: its first milestone).
"""

from __future__ import annotations

import sqlalchemy as sa

from .base import SQLModel
from .enums import VaeState

STATUS_KEYS = ("draft", "awaiting", "progress", "completed", "stopped")
PROTOCOL_MEASURES = (
    "learners",  # a learner counts once, under their most recent protocol
    *(f"l_{s}" for s in STATUS_KEYS),
    "protocols",
    *(f"p_{s}" for s in STATUS_KEYS),
    "paused",  # protocols in progress with an open pause (afest.protocols.pausing)
    "targeted",
    "acquired",
    "planned_sequences",
    "planned_minutes",
    "done_sequences",
    "done_minutes",
    "cond_analysis",
    "cond_tutor",
    "cond_reflection",
    "cond_evaluation",
    "compliant",
    # learners counted once under their most recent protocol, if it meets each condition: at
    # least that many learners meet it (the small-cell rule's bound, afest.dashboards.smallcells)
    "l_cond_analysis",
    "l_cond_tutor",
    "l_cond_reflection",
    "l_cond_evaluation",
)
BLOCK_MEASURES = ("learners", "protocols", "targeted", "acquired")
JURY_KEYS = ("success", "partial_success", "failure")
VAE_MEASURES = (
    "pathways",
    *(f"r_{s.value}" for s in VaeState),  # pathways that reached each milestone
    *(f"jury_{r}" for r in JURY_KEYS),  # latest jury result
)
DIMENSIONS = ("funder_id", "cohort_id", "structure_id", "departement", "referential_id", "month")


def _dims() -> list[sa.Column]:
    return [
        sa.Column("funder_id", sa.Integer, nullable=False),
        sa.Column("cohort_id", sa.Integer, nullable=False),
        sa.Column("structure_id", sa.Integer, nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("referential_id", sa.Integer, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
    ]


def _measures(names) -> list[sa.Column]:
    return [sa.Column(n, sa.Integer, nullable=False, server_default="0") for n in names]


LEARNER_INDEX_COLUMNS = {
    f"ix_rollupprotocol_{owner}_{dimension}": (f"{owner}_id", column, "learner_id")
    for owner in ("funder", "cohort")
    for dimension, column in (
        ("structure", "structure_id"),
        ("dept", "departement"),
        ("ref", "referential_id"),
        ("month", "month"),
        ("status", "status"),
    )
} | {
    # an owner's learners in all (the total): read in learner order, none sorted to count them
    "ix_rollupprotocol_funder_learner": ("funder_id", "learner_id"),
    "ix_rollupprotocol_cohort_learner": ("cohort_id", "learner_id"),
    "ix_rollupprotocol_structure": ("structure_id", "learner_id"),
}
LEARNER_INDEXES = [sa.Index(name, *cols) for name, cols in LEARNER_INDEX_COLUMNS.items()]
# an owner's protocols of a référentiel by the blocks they target (the block table's cells,
# afest.dashboards.smallcells): their protocols and latest learners grouped, and the distinct
# learners of a few of them counted, from the index alone
BLOCKSET_INDEX_COLUMNS = {
    f"ix_rollupprotocol_{owner}_blockset": (
        f"{owner}_id",
        "referential_id",
        "blockset",
        "learners",
        "learner_id",
    )
    for owner in ("funder", "cohort")
}
BLOCKSET_INDEXES = [sa.Index(name, *cols) for name, cols in BLOCKSET_INDEX_COLUMNS.items()]

rollup_protocol = sa.Table(
    "rollupprotocol",
    SQLModel.metadata,
    sa.Column("protocol_id", sa.Integer, sa.ForeignKey("protocol.id"), primary_key=True),
    *_dims(),
    sa.Column("learner_id", sa.Integer, nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False),
    # the blocks it targets: their ids in increasing order, comma-separated ('' for none)
    sa.Column("blockset", sa.Text, nullable=False, server_default=""),
    *_measures(PROTOCOL_MEASURES),
    # distinct learners of a dashboard's rows (afest.dashboards.learners): each index holds an
    # owner, a row's dimension and the learner, so a count reads the index alone
    *LEARNER_INDEXES,
    *BLOCKSET_INDEXES,
)

rollup_protocol_block = sa.Table(
    "rollupprotocolblock",
    SQLModel.metadata,
    sa.Column("protocol_id", sa.Integer, sa.ForeignKey("protocol.id"), primary_key=True),
    sa.Column("block_id", sa.Integer, primary_key=True),
    *_measures(("targeted", "acquired")),
)

rollup_pathway = sa.Table(
    "rollupvaepathway",
    SQLModel.metadata,
    sa.Column("pathway_id", sa.Integer, sa.ForeignKey("vaepathway.id"), primary_key=True),
    *_dims(),
    *_measures(VAE_MEASURES),
)


def _empty_cells(table: str, count: str) -> sa.Index:
    """The cells that no protocol (pathway) counts in any more: a settle that empties cells
    removes them before it commits, so this index is empty between settles and finds them
    at once."""
    empty = sa.text(f"{count} = 0")
    return sa.Index(f"ix_{table}_empty", count, sqlite_where=empty, postgresql_where=empty)


rollup_cell = sa.Table(
    "rollupcell",
    SQLModel.metadata,
    sa.Column("grain", sa.String(4), primary_key=True),
    *[sa.Column(c.name, c.type, primary_key=True) for c in _dims()],
    sa.Column("block_id", sa.Integer, primary_key=True),
    *_measures(PROTOCOL_MEASURES),
    sa.Index("ix_rollupcell_cohort", "grain", "cohort_id"),
    _empty_cells("rollupcell", "protocols"),
    sqlite_with_rowid=False,  # rows clustered by their key: a dashboard reads a key range
)

rollup_vae_cell = sa.Table(
    "rollupvaecell",
    SQLModel.metadata,
    sa.Column("grain", sa.String(4), primary_key=True),
    *[sa.Column(c.name, c.type, primary_key=True) for c in _dims()],
    *_measures(VAE_MEASURES),
    sa.Index("ix_rollupvaecell_cohort", "grain", "cohort_id"),
    _empty_cells("rollupvaecell", "pathways"),
    sqlite_with_rowid=False,
)

# Protocols whose facts are out of date. Saving a sequence (the tablet's critical path) only
# marks its protocol here, in the same transaction; whoever reads the rollups next settles the
# marked protocols first, all at once (afest.dashboards.rollups.settle). No foreign key: a
# protocol purged meanwhile is settled by removing its facts.
rollup_pending = sa.Table(
    "rolluppending",
    SQLModel.metadata,
    sa.Column("protocol_id", sa.Integer, primary_key=True, autoincrement=False),
    # Bumped by every mark: the upsert then takes the row lock a settle holds (PostgreSQL).
    sa.Column("marks", sa.Integer, nullable=False, server_default="1"),
)

# Distinct learners kept (afest.dashboards.members): for each owner (an OPCO "f" or a cohort
# "c"), each table of a dashboard (its dimension: "total", "status", "paused" among those in
# progress, "structure", "dept", "ref", "month") and each row of it (its key as text), one
# member row per learner with her protocols there, and the count of those rows.
LEARNER_DIMENSIONS = ("total", "status", "paused", "structure", "dept", "ref", "month")


def _owner_key(*extra: sa.Column) -> list[sa.Column]:
    return [
        sa.Column("owner", sa.String(1), primary_key=True),
        sa.Column("owner_id", sa.Integer, primary_key=True),
        sa.Column("dim", sa.String(9), primary_key=True),
        sa.Column("key", sa.String(40), primary_key=True),
        *extra,
    ]


rollup_member = sa.Table(
    "rollupmember",
    SQLModel.metadata,
    *_owner_key(sa.Column("learner_id", sa.Integer, primary_key=True)),
    sa.Column("protocols", sa.Integer, nullable=False),
    sa.Index("ix_rollupmember_learner", "learner_id"),
    _empty_cells("rollupmember", "protocols"),
    sqlite_with_rowid=False,
)

rollup_learners = sa.Table(
    "rolluplearners",
    SQLModel.metadata,
    *_owner_key(),
    sa.Column("learners", sa.Integer, nullable=False),
    _empty_cells("rolluplearners", "learners"),
    sqlite_with_rowid=False,
)

# Block patterns kept (afest.dashboards.learners, `Learners.block_patterns`): for each owner (an
# OPCO "f" or a cohort "c"; none for owner 0), each référentiel and each set of its blocks that
# some protocols target (`blockset`, as in the fact rows), how many protocols target exactly
# those blocks and how many of them are their learner's latest: the block table of a page of
# one owner without filters reads its few dozen rows instead of grouping the owner's facts.
rollup_block_pattern = sa.Table(
    "rollupblockpattern",
    SQLModel.metadata,
    sa.Column("owner", sa.String(1), primary_key=True),
    sa.Column("owner_id", sa.Integer, primary_key=True),
    sa.Column("referential_id", sa.Integer, primary_key=True),
    sa.Column("blockset", sa.Text, primary_key=True),
    sa.Column("protocols", sa.Integer, nullable=False),
    sa.Column("latest", sa.Integer, nullable=False),
    _empty_cells("rollupblockpattern", "protocols"),
    sqlite_with_rowid=False,
)

ROLLUP_TABLES = (
    rollup_protocol,
    rollup_protocol_block,
    rollup_pathway,
    rollup_cell,
    rollup_vae_cell,
    rollup_member,
    rollup_learners,
    rollup_block_pattern,
)
