"""Mon parcours: a learner's progress, what comes next, and the export of their data."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, url_for
from flask_login import current_user, login_required

from afest.accounts import export, export_format
from afest.assessments import progress
from afest.core import clock
from afest.core.database import get_session
from afest.core.http import render
from afest.models import Role, utcnow
from afest.policy.loaders import load_learner_or_404

bp = Blueprint("learner", __name__, url_prefix="/parcours")


def endpoint_or(name: str, fallback: str) -> str:
    """`name` when the route exists in this app, else `fallback` (areas built in parallel)."""
    return name if name in current_app.view_functions else fallback


@bp.get("/")
@login_required
def me():
    """The nav entry: the signed-in learner's own progress."""
    if not current_user.has(Role.LEARNER):
        abort(403)
    return redirect(url_for(".progress_page", public_id=current_user.user.public_id))


@bp.get("/<public_id>", endpoint="progress_page")
@login_required
def progress_page(public_id: str):
    """Progress per block and competence, the sequences, what comes next, what to sign."""
    learner = load_learner_or_404(public_id)
    return render(
        "learner/progress.html",
        view=progress.progress(get_session(), learner, today=utcnow().date(), zone=clock.zone()),
        countersign_endpoint=endpoint_or("sequences.countersign", "protocols.show"),
    )


@bp.get("/<public_id>/donnees")
@login_required
def export_page(public_id: str):
    """Everything held about the learner, as a page they can read and print."""
    learner = load_learner_or_404(public_id)
    data = export.learner_data(get_session(), learner)
    return render("learner/export.html", data=data, LABELS=export_format.KEY_LABELS)


@bp.get("/<public_id>/donnees.json")
@login_required
def export_json(public_id: str):
    """Everything held about the learner, as a JSON file (right of access)."""
    learner = load_learner_or_404(public_id)
    data = export.learner_data(get_session(), learner)
    return Response(
        export_format.json_file(data),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="mes-donnees-afest.json"'},
    )
