"""Dashboards: the OPCO view, the cohort view, the structure drill-down, and their exports."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    request,
    url_for,
)
from flask_login import current_user, login_required
from jinja2 import pass_context
from markupsafe import Markup, escape

from afest import policy
from afest.core.database import get_session
from afest.core.http import format_count, format_minutes, grouping, render
from afest.dashboards import export as dashboard_export
from afest.dashboards import glance, risk, trend
from afest.dashboards import jobs as dashboards_jobs
from afest.dashboards import queries as dashboards
from afest.dashboards import screens as dashboard_screens
from afest.dashboards.board import FUNNEL, JURY_NAMES, STATUS_NAMES, Scope
from afest.models import Role, utcnow
from afest.policy.loaders import load_cohort_or_404, load_structure_or_404
from afest.vae import states as vae_states

log = logging.getLogger(__name__)
bp = Blueprint("dashboards", __name__, url_prefix="/tableaux")
FORMATS = "<any(csv, xlsx):fmt>"
EXPORT_WAIT_SECONDS = 5


@bp.before_request
def _settled_rollups():
    """Protocols marked by recent saves are folded into the rollups before any figure is read:
    the queue settles them and this request waits for it (this request writes nothing). A
    page waits ROLLUP_READ_WAIT_SECONDS at most, then says how many protocols it does not
    count yet (the queue goes on settling them); an export, which cannot say so, waits
    EXPORT_WAIT_SECONDS."""
    if current_user.is_authenticated:
        export = (request.endpoint or "").endswith("_export")
        wait = EXPORT_WAIT_SECONDS if export else current_app.config["ROLLUP_READ_WAIT_SECONDS"]
        g.rollups_behind = dashboards_jobs.wait_until_settled(get_session(), wait)
        if export and g.rollups_behind:
            log.warning("rollups: %d protocols not settled for an export", g.rollups_behind)


@bp.context_processor
def _labels():
    return {
        "STATUS_NAMES": STATUS_NAMES,
        "JURY_NAMES": JURY_NAMES,
        "FUNNEL": FUNNEL,
        "VAE_LABELS": vae_states.STATE_LABELS,
        "row_cells": row_cells,
    }


def _pct(row, num: str, den: str) -> str:
    ratio = row.ratio(num, den)
    return "—" if ratio is None else f"{100 * ratio:.0f} %"


@pass_context
def row_cells(context, row, learners: bool = True) -> Markup | None:
    """The cells of a table row's figures, formatted and escaped once here rather than cell
    by cell in Jinja (a national page has some 2,000 of them); None when the row is hidden."""
    if row.hidden:
        return None
    sep, n = context.get("number_group") or grouping(), row.get
    cells = [format_count(n("learners"), sep)] * learners + [
        format_count(n("protocols"), sep),
        format_count(n("p_completed"), sep),
        _pct(row, "acquired", "targeted"),
        f"{format_count(n('done_sequences'), sep)} / {format_count(n('planned_sequences'), sep)}",
        f"{format_minutes(n('done_minutes'), sep)} / {format_minutes(n('planned_minutes'), sep)}",
        _pct(row, "compliant", "protocols"),
    ]
    return Markup("".join(f"<td>{escape(v)}</td>" for v in cells))  # noqa: S704 (escaped)


def _board(scope: Scope, *, export: bool = False):
    """Parse the filters and build the dashboard: (form, board or None, status)."""
    k = current_app.config["SMALL_CELL_K"]
    return dashboard_screens.board(
        get_session(), current_user, scope, request.args, k=k, export=export
    )


def _glance(board) -> dict:
    """What the page shows first: the protocols in progress (and paused), the VAE funnel's
    milestones, the monthly trend's chart (nothing when the filters are not valid)."""
    if board is None:
        return {}
    return {
        "in_progress": glance.in_progress(board),
        "funnel": glance.funnel(board),
        "trend": trend.chart(board.months.rows),
    }


def _export(board, fmt: str, name: str) -> Response:
    body, mimetype = dashboard_export.render(board, fmt)  # the CSV: its lines, streamed
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _opco_scope() -> Scope:
    if not policy.can_view_opco_dashboard(current_user):
        abort(403)
    return Scope(funder_ids=current_user.orgs(Role.OPCO))


def _structure_scope(structure) -> Scope:
    return Scope(
        funder_ids=current_user.orgs(Role.OPCO) if current_user.has(Role.OPCO) else frozenset(),
        cohort_ids=frozenset(get_session().scalars(policy.followed_cohort_ids(current_user)).all())
        if current_user.has(Role.CONSULTANT)
        else frozenset(),
        structure_id=structure.id,
        whole_structure=policy.manages(current_user, structure.id),
    )


@bp.get("/opco")
@login_required
def opco():
    """OPCO view: the protocols the consultant's OPCO funds, across its structures."""
    form, board, status = _board(_opco_scope())
    return render(
        "dashboards/opco.html",
        form=form,
        board=board,
        status=status,
        risk_url=url_for("dashboards.opco_risk"),
        **_glance(board),
    )


@bp.get("/opco/a-risque")
@login_required
def opco_risk():
    """The adviser's structures whose protocols in progress fail, or are about to fail, a
    legal condition, today and whatever the filters: her dashboard asks for them once shown
    (they cost more to find than the rest of the page), or their own page."""
    _opco_scope()
    k = current_app.config["SMALL_CELL_K"]
    at_risk = risk.of_adviser(get_session(), current_user.id, now=utcnow(), k=k)
    return render("dashboards/risk.html", partial="dashboards/_risk.html", at_risk=at_risk)


@bp.get(f"/opco/export.{FORMATS}")
@login_required
def opco_export(fmt: str):
    """The OPCO view as it is filtered, as CSV or XLSX."""
    form, board, status = _board(_opco_scope(), export=True)
    if board is None:
        return render("dashboards/opco.html", form=form, board=None, status=status)
    return _export(board, fmt, "tableau-opco")


@bp.get("/cohortes/<public_id>")
@login_required
def cohort(public_id: str):
    """Cohort view: a cohort the consultant follows, across its structures."""
    item = load_cohort_or_404(public_id)
    form, board, status = _board(Scope(cohort_ids=frozenset({item.id})))
    return render(
        "dashboards/cohort.html",
        cohort=item,
        form=form,
        board=board,
        status=status,
        **_glance(board),
    )


@bp.get(f"/cohortes/<public_id>/export.{FORMATS}")
@login_required
def cohort_export(public_id: str, fmt: str):
    """The cohort view as it is filtered, as CSV or XLSX."""
    item = load_cohort_or_404(public_id)
    form, board, status = _board(Scope(cohort_ids=frozenset({item.id})), export=True)
    if board is None:
        return render("dashboards/cohort.html", cohort=item, form=form, board=None, status=status)
    return _export(board, fmt, f"cohorte-{item.code}")


@bp.get(f"/structures/<public_id>/export.{FORMATS}")
@login_required
def structure_export(public_id: str, fmt: str):
    """The drill-down's figures as they are filtered, as CSV or XLSX."""
    item = load_structure_or_404(public_id)
    form, board, status = _board(_structure_scope(item), export=True)
    if board is None:
        return render(
            "dashboards/structure.html",
            structure=item,
            form=form,
            board=None,
            status=status,
            protocols=[],
        )
    return _export(board, fmt, f"structure-{item.siret or item.public_id}")


@bp.get("/structures/<public_id>")
@login_required
def structure(public_id: str):
    """Drill-down: one structure's figures and its protocols in the viewer's scope."""
    item = load_structure_or_404(public_id)
    form, board, status = _board(_structure_scope(item))
    protocols = dashboards.structure_protocols(get_session(), current_user, item.id)
    return render(
        "dashboards/structure.html",
        structure=item,
        form=form,
        board=board,
        status=status,
        protocols=protocols,
        **_glance(board),
    )
