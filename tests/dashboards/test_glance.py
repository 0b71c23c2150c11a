"""What the band of key figures reads: the protocols in progress and paused, and the VAE
funnel's milestones, each hidden exactly where the board hides it."""

from __future__ import annotations

from types import SimpleNamespace

from afest.dashboards import glance
from afest.dashboards.board import Row, Table
from afest.models import VaeState

PAUSED = Row("paused", "dont en pause", {"protocols": 1})


def board(*, totals_hidden=False, progress_hidden=False, paused=PAUSED, vae=None, vae_hidden=()):
    rows = [
        Row("draft", "Brouillon", {"protocols": 7}),
        Row("in_progress", "En cours", {"protocols": 12}, hidden=progress_hidden),
    ]
    return SimpleNamespace(
        totals=Row(None, "Total", {"p_progress": 12, "paused": 1}, hidden=totals_hidden),
        statuses=Table("statuses", rows),
        paused=paused,
        vae=Row(None, "VAE", vae or {}),
        vae_hidden=set(vae_hidden),
    )


def test_in_progress_from_the_status_rows():
    assert glance.in_progress(board()) == (12, 1)


def test_in_progress_hidden_where_its_row_or_the_totals_are():
    hidden = Row("paused", "dont en pause", {"protocols": 1}, hidden=True)
    assert glance.in_progress(board(paused=hidden)) == (12, None)
    assert glance.in_progress(board(progress_hidden=True)) == (None, 1)
    assert glance.in_progress(board(totals_hidden=True)) == (None, None)


def test_the_funnel_hides_a_small_milestone_and_scales_by_the_figures_shown():
    vae = {"r_projet": 2, "r_prise_en_charge": 20, "r_faisabilite_recevable": 10}
    steps = glance.funnel(board(vae=vae, vae_hidden={"r_projet"}))
    assert [s.state for s in steps] == list(glance.MILESTONES)
    by = {s.state: s for s in steps}
    assert by[VaeState.PROJET].value is None and by[VaeState.PROJET].share == 0
    assert by[VaeState.PRISE_EN_CHARGE].share == 1  # the largest shown, not the hidden one
    assert by[VaeState.FAISABILITE_RECEVABLE].share == 0.5
    assert by[VaeState.CERTIFICATION].value == 0
