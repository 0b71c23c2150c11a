"""What a dashboard shows, as plain data: whose figures (Scope), which (Filters), and the
tables of rows a page or an export renders. Shared by the queries that fill it and the
small-cell rules that hide some of it."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from afest.models import VaeState
from afest.models.rollup import STATUS_KEYS

PAGE_SIZE = 25
STATUS_VALUES = dict(
    zip(
        STATUS_KEYS,
        ("draft", "awaiting_signatures", "in_progress", "completed", "stopped"),
        strict=True,
    )
)
FUNNEL = [s for s in VaeState if s != VaeState.ABANDON]
STATUS_NAMES = {
    "draft": _l("Brouillon"),
    "awaiting": _l("En attente de signatures"),
    "progress": _l("En cours"),
    "completed": _l("Terminé"),
    "stopped": _l("Arrêté"),
}
PAUSED_NAME = _l("dont en pause")  # protocols in progress with an open pause
JURY_NAMES = {
    "success": _l("Validation totale"),
    "partial_success": _l("Validation partielle"),
    "failure": _l("Échec"),
}


@dataclass(frozen=True)
class Scope:
    """Whose figures: protocols funded by these OPCOs or in these cohorts; or, for the
    structure's own manager, all of it. `structure_id` narrows to one structure."""

    funder_ids: frozenset[int] = frozenset()
    cohort_ids: frozenset[int] = frozenset()
    structure_id: int | None = None
    whole_structure: bool = False

    def where(self, table) -> list[sa.ColumnElement[bool]]:
        clauses = []
        if self.funder_ids:
            clauses.append(table.c.funder_id.in_(sorted(self.funder_ids)))
        if self.cohort_ids:
            clauses.append(table.c.cohort_id.in_(sorted(self.cohort_ids)))
        if self.whole_structure and self.structure_id is not None:
            clauses = [sa.true()]
        where = [sa.or_(*clauses) if clauses else sa.false()]
        if self.structure_id is not None:
            where.append(table.c.structure_id == self.structure_id)
        return where


@dataclass(frozen=True)
class Filters:
    departement: str | None = None
    referential_id: int | None = None
    month_from: int | None = None  # yyyymm, inclusive
    month_to: int | None = None

    @property
    def period(self) -> bool:
        return self.month_from is not None or self.month_to is not None

    def where(self, table, *, months: bool) -> list[sa.ColumnElement[bool]]:
        clauses = []
        if self.departement is not None:
            clauses.append(table.c.departement == self.departement)
        if self.referential_id is not None:
            clauses.append(table.c.referential_id == self.referential_id)
        if months and self.month_from is not None:
            clauses.append(table.c.month >= self.month_from)
        if months and self.month_to is not None:
            clauses.append(table.c.month <= self.month_to)
        return clauses


SORTS = ("nom", "apprenants", "protocoles", "completion", "heures", "conformite")


@dataclass(frozen=True)
class Listing:
    """Which structures the structure table lists: matching `search` (name or SIRET), in the
    order of `sort` (a figure: the hidden rows last, by name), one page of PAGE_SIZE, or
    every one (`page` None: the exports)."""

    sort: str = "nom"
    descending: bool = False
    search: str = ""
    page: int | None = 1


@dataclass
class Row:
    key: object
    label: str
    values: dict[str, int]
    hidden: bool = False
    public_id: str | None = None  # structures: for the drill-down link
    group: str | None = None  # structures: their département
    siret: str | None = None  # structures: found by it in a search

    def get(self, name: str) -> int:
        return self.values.get(name, 0)

    def ratio(self, num: str, den: str) -> float | None:
        d = self.get(den)
        return None if self.hidden or not d else self.get(num) / d


@dataclass
class Table:
    name: str
    rows: list[Row]
    total: int = 0  # rows before pagination (structures: those matching the search)
    page: int = 1
    pages: int = 1


@dataclass
class Dashboard:
    totals: Row
    statuses: Table  # by protocol status (row keys: the stored status)
    paused: Row  # among the protocols in progress, those paused
    structures: Table
    departements: Table
    referentials: Table
    months: Table
    blocks: Table
    vae: Row
    jury: list[Row]
    k: int
    filters: Filters
    listing: Listing = Listing()
    suppressed: bool = False  # a small-cell rule hid something
    vae_hidden: set[str] = field(default_factory=set)  # VAE counts hidden as small cells
    conditions_hidden: set[str] = field(default_factory=set)  # legal conditions' counts hidden

    @property
    def months_max(self) -> int:
        return max((r.get("protocols") for r in self.months.rows if not r.hidden), default=0)

    @property
    def tables(self) -> list[Table]:
        return [self.structures, self.departements, self.referentials, self.months, self.blocks]
