"""The OPCO dashboard's "protocols at risk": the structures whose funded protocols in progress
fail, or are about to fail, a legal condition, by the one rule of the adviser's summary
(afest.todo.build.structures_at_risk): a structure is named only when those protocols
concern at least SMALL_CELL_K learners, the smaller ones are only counted.

A cohort's consultant has no such rule yet (the summary is an OPCO's): the cohort and
structure views do not list it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from afest.todo import build
from afest.todo.items import Item, sort_key


@dataclass(frozen=True)
class AtRisk:
    """The named structures (their summary items, the most protocols failing first) and how
    many smaller ones were left unnamed."""

    named: list[Item] = field(default_factory=list)
    unnamed: int = 0
    k: int = 0

    def __bool__(self) -> bool:
        return bool(self.named or self.unnamed)


def of_adviser(session: Session, adviser_id: int, *, now: datetime, k: int) -> AtRisk:
    """What the adviser's summary would list now, shaped for her dashboard."""
    items = build.structures_at_risk(session, adviser_id=adviser_id, now=now)
    unnamed = sum(i.facts["small"] for i in items if "small" in i.facts)
    named = sorted(
        (i for i in items if "small" not in i.facts),
        key=lambda i: (-i.facts["failing"], -i.facts["near"], i.facts["structure"], sort_key(i)),
    )
    return AtRisk(named, unnamed, k)
