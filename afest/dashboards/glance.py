"""What a dashboard shows first, in its band of key figures: the protocols in progress and
those paused among them, hidden where their rows are; the VAE funnel in a few milestones of
the ordinary road, each with the pathways that reached it (hidden as a small cell exactly as
in the full table: board.vae_hidden) and the length of its bar."""

from __future__ import annotations

from dataclasses import dataclass

from afest.dashboards.board import STATUS_VALUES, Dashboard
from afest.models import VaeState
from afest.vae.states import STATE_LABELS

S = VaeState
# Project, support begun, feasibility receivable, validation file sent, jury, certification:
# the steps a funder asks about; every milestone is in the "Parcours VAE" table.
MILESTONES = (
    S.PROJET,
    S.PRISE_EN_CHARGE,
    S.FAISABILITE_RECEVABLE,
    S.VALIDATION_ENVOYEE,
    S.JURY_RESULTAT,
    S.CERTIFICATION,
)


@dataclass(frozen=True)
class Step:
    state: VaeState
    label: str
    value: int | None  # None when hidden
    share: float  # of the largest figure shown, 0..1 (0 when hidden)


def in_progress(board: Dashboard) -> tuple[int | None, int | None]:
    """The protocols in progress and the paused ones among them, None where hidden: by the
    rows of the status table and of the paused protocols, which the small-cell rules hide
    each on its own."""
    if board.totals.hidden:
        return None, None
    row = next(r for r in board.statuses.rows if r.key == STATUS_VALUES["progress"])
    return (
        None if row.hidden else row.get("protocols"),
        None if board.paused.hidden else board.paused.get("protocols"),
    )


def funnel(board: Dashboard) -> list[Step]:
    """The milestones' figures; a hidden one has no value and no bar, and the bars are
    scaled by the figures shown only."""
    values = {
        s: None if f"r_{s.value}" in board.vae_hidden else board.vae.get(f"r_{s.value}")
        for s in MILESTONES
    }
    top = max((v for v in values.values() if v is not None), default=0)
    return [
        Step(s, str(STATE_LABELS[s]), v, (v / top) if v and top else 0.0) for s, v in values.items()
    ]
