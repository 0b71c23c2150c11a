"""Evaluations of acquired competences (condition 4): intermediate or final, per competence,
signed by the tutor and countersigned by the learner; the final bilan per block."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.assessments import evaluations
from afest.assessments import screens as evaluation_screens
from afest.assessments.forms import EvaluationForm, EvaluationSignForm
from afest.core.database import get_session
from afest.core.http import REFUSED, perform, render
from afest.models import SignerRole
from afest.policy.loaders import load_evaluation_or_404, load_protocol_or_404
from afest.proof import proofpack
from afest.protocols import screens as pf

bp = Blueprint("evaluations", __name__)


def _form_page(protocol, form, *, status=200):
    scope, scale = pf.scope_and_scale(get_session(), protocol)
    return render(
        "evaluations/new.html",
        protocol=protocol,
        form=form,
        scope=scope,
        scale=scale,
        chosen=form.levels,
        client_id=form.client_id,
        error=" ".join(map(str, form.form_errors)),
        status=status,
    )


@bp.get("/protocoles/<public_id>/evaluations/nouvelle")
@login_required
def new(public_id: str):
    """The evaluation form: a level for each targeted competence."""
    protocol = load_protocol_or_404(public_id, require=policy.can_evaluate)
    return _form_page(protocol, EvaluationForm(formdata=None))


@bp.post("/protocoles/<public_id>/evaluations/nouvelle")
@login_required
def create(public_id: str):
    """Record the evaluation (idempotent on the form's client id)."""
    protocol = load_protocol_or_404(public_id, require=policy.can_evaluate)
    form = EvaluationForm()
    if form.validate_on_submit():
        arguments = {"protocol": protocol, **form.evaluation()}
        if evaluation := perform(form, evaluations.create_evaluation, **arguments):
            return redirect(url_for("evaluations.show", public_id=evaluation.public_id))
    return _form_page(protocol, form, status=422)


def _show(evaluation, protocol, *, sign_form=None, status=200):
    page = evaluation_screens.evaluation_page(
        get_session(), current_user, evaluation, protocol, sign_form
    )
    return render("evaluations/show.html", status=status, **page)


@bp.get("/evaluations/<public_id>")
@login_required
def show(public_id: str):
    """An evaluation: the level set on each competence, its signatures."""
    evaluation, protocol = load_evaluation_or_404(public_id)
    return _show(evaluation, protocol)


@bp.post("/evaluations/<public_id>/signer")
@login_required
def sign(public_id: str):
    """The tutor signs (PIN or password), the learner countersigns (password)."""
    evaluation, protocol = load_evaluation_or_404(public_id, require=policy.can_sign_evaluation)
    form = EvaluationSignForm()
    form.offer(SignerRole)
    if form.validate_on_submit() and (method := form.confirmed(get_session(), current_user.id)):
        arguments = {"protocol": protocol, "evaluation": evaluation, **form.signature(method)}
        if perform(form, evaluations.sign_evaluation, default="role", **arguments) is not REFUSED:
            flash(_("Évaluation signée."), "success")
            return redirect(url_for("evaluations.show", public_id=public_id))
    return _show(evaluation, protocol, sign_form=form, status=422)


@bp.get("/protocoles/<public_id>/bilan")
@login_required
def bilan(public_id: str):
    """The bilan: for each block, the level at the start and at the end of each competence."""
    protocol = load_protocol_or_404(public_id)
    pack = proofpack.collect(get_session(), protocol)
    return render("evaluations/bilan.html", protocol=protocol, pack=pack)
