"""VAE pathways: the timeline the learner follows, the milestones their consultant or manager
record, the feasibility self-assessment, and the draft dossier de validation built from the
signed AFEST sequences."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from afest import policy
from afest.core.database import get_session
from afest.core.http import REFUSED, perform, render
from afest.models import Role, VaePathway
from afest.policy.loaders import load_pathway_or_404
from afest.vae import dossier
from afest.vae import operations as vae
from afest.vae import queries as vae_queries
from afest.vae import screens as vae_screens
from afest.vae import states as vae_states
from afest.vae.forms import feasibility_form, pathway_milestone_form

bp = Blueprint("vae", __name__, url_prefix="/vae")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LABELS = {
    "STATE_LABELS": vae_states.STATE_LABELS,
    "JURY_LABELS": vae_states.JURY_LABELS,
    "OUTCOME_LABELS": vae_states.OUTCOME_LABELS,
    "ANSWER_LABELS": vae_states.ANSWER_LABELS,
}


def _show(pathway: VaePathway, form=None, status: int = 200):
    page = vae_screens.pathway_page(get_session(), current_user, pathway, form)
    return render("vae/show.html", status=status, **page, **LABELS)


@bp.get("/")
@login_required
def index():
    """The pathways in the actor's scope: their own, accompanied, followed, of their structure."""
    if not current_user.has(Role.LEARNER, Role.CONSULTANT, Role.MANAGER):
        abort(403)
    rows = vae_queries.visible_pathways(get_session(), current_user)
    return render("vae/index.html", rows=rows, **LABELS)


@bp.get("/<public_id>")
@login_required
def show(public_id: str):
    """The timeline of milestones, what comes next, and the jury's results per block."""
    return _show(load_pathway_or_404(public_id))


@bp.post("/<public_id>/etapes")
@login_required
def record(public_id: str):
    """Record the next milestone; out-of-order steps are refused with the reason beside them."""
    pathway = load_pathway_or_404(public_id, require=policy.can_record_vae_milestone)
    form = pathway_milestone_form(get_session(), pathway)
    if form.validate_on_submit():
        arguments = {"pathway": pathway, **form.milestone()}
        done = perform(
            form, vae.record_milestone, default="state", aliases=form.refusal_fields, **arguments
        )
        if done is not REFUSED:
            flash(_l("Étape enregistrée."), "success")
            return redirect(url_for(".show", public_id=public_id))
    return _show(pathway, form=form, status=422)


def _feasibility(pathway: VaePathway, form=None, status: int = 200, prefilled: bool = False):
    page = vae_screens.feasibility_page(
        get_session(), current_user, pathway, form, prefilled=prefilled
    )
    return render("vae/feasibility.html", status=status, **page, **LABELS)


@bp.get("/<public_id>/faisabilite")
@login_required
def feasibility(public_id: str):
    """The self-assessment per competence; `?depuis=afest` proposes answers from AFEST levels."""
    pathway = load_pathway_or_404(public_id)
    return _feasibility(pathway, prefilled=request.args.get("depuis") == "afest")


@bp.post("/<public_id>/faisabilite")
@login_required
def save_feasibility(public_id: str):
    """Save the self-assessment (yes / partly / no per competence)."""
    pathway = load_pathway_or_404(public_id, require=policy.can_edit_feasibility)
    groups = vae_queries.competences_by_block(get_session(), pathway.referential_id)
    form = feasibility_form(vae_screens.competence_ids(groups))
    if form.validate_on_submit():
        answers = form.answers()
        if perform(form, vae.save_feasibility, pathway=pathway, answers=answers) is not REFUSED:
            flash(_l("Auto-évaluation enregistrée."), "success")
            return redirect(url_for(".feasibility", public_id=public_id))
    return _feasibility(pathway, form=form, status=422)


def _dossier(public_id: str) -> dossier.Dossier:
    pathway = load_pathway_or_404(public_id)
    block = dossier.block_of(get_session(), pathway, request.args.get("bloc"))
    if block is None:
        abort(404)
    return dossier.dossier(get_session(), pathway, block)


@bp.get("/<public_id>/dossier")
@login_required
def dossier_page(public_id: str):
    """The draft dossier de validation for one block, from signed sequences only."""
    draft = _dossier(public_id)
    blocks = vae_queries.blocks_of(get_session(), draft.pathway.referential_id)
    return render("vae/dossier.html", draft=draft, blocks=blocks, sections=dossier.sections)


@bp.get("/<public_id>/dossier.docx")
@login_required
def dossier_docx(public_id: str):
    """The same draft as a Word document the learner can edit."""
    draft = _dossier(public_id)
    name = re.sub(r"[^A-Za-z0-9_-]", "", draft.block.code)
    return Response(
        dossier.to_docx(draft),
        mimetype=DOCX,
        headers={"Content-Disposition": f'attachment; filename="dossier-validation-{name}.docx"'},
    )
