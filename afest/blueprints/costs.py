"""The costs of an in-house AFEST, for the structure's manager: the hourly costs of its people
(added, ended, removed), each protocol's other costs and the tutor's time on its evaluations,
and the statement of expenses of a protocol or of the structure over a period (page and
workbook; the proof pack carries it too)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from afest import policy
from afest.core.database import get_session
from afest.core.forms import EmptyForm
from afest.core.http import REFUSED, flash_refusal, perform, render
from afest.costs import operations, queries, screens
from afest.costs.forms import EndCostForm, OtherCostForm
from afest.models import ClaimArchive, Role
from afest.policy.loaders import load_costed_structure_or_404, load_protocol_or_404
from afest.proof import claims

bp = Blueprint("costs", __name__)


def _rates(structure):
    return redirect(url_for("costs.rates", structure_id=structure.public_id))


def _cost_or_404(structure, cost_id: str):
    cost = queries.hourly_cost(get_session(), structure.id, cost_id)
    if cost is None:
        abort(404)
    return cost


@bp.get("/structures/couts")
@login_required
def index():
    """The structures whose costs the manager runs; straight to the one when there is one."""
    if not current_user.has(Role.MANAGER):
        abort(403)
    structures = queries.managed_structures(get_session(), current_user)
    if len(structures) == 1:
        return _rates(structures[0])
    return render("costs/index.html", structures=structures)


@bp.get("/structures/<structure_id>/couts")
@login_required
def rates(structure_id: str):
    """The structure's hourly costs and the form to add one."""
    structure = load_costed_structure_or_404(structure_id)
    return screens.render_rates(get_session(), structure)


@bp.post("/structures/<structure_id>/couts")
@login_required
def add_rate(structure_id: str):
    """Add the hourly cost of a person, or a default, over a period that overlaps no other."""
    structure = load_costed_structure_or_404(structure_id)
    form = screens.hourly_cost_form(get_session(), structure)
    if form.validate_on_submit():
        arguments = {"structure": structure, **form.cost()}
        if perform(form, operations.add_hourly_cost, default="who", **arguments) is not REFUSED:
            flash(_("Coût horaire enregistré."), "success")
            return _rates(structure)
    return screens.render_rates(get_session(), structure, form=form, status=422)


@bp.post("/structures/<structure_id>/couts/<cost_id>/fin")
@login_required
def end_rate(structure_id: str, cost_id: str):
    """End an hourly cost on a given day."""
    structure = load_costed_structure_or_404(structure_id)
    cost = _cost_or_404(structure, cost_id)
    form = EndCostForm(prefix=screens.end_prefix(cost.public_id))
    if form.validate_on_submit():
        arguments = {"structure": structure, "cost": cost, "valid_to": form.valid_to.data}
        if perform(form, operations.end_hourly_cost, default="valid_to", **arguments):
            flash(_("Fin de validité enregistrée."), "success")
            return _rates(structure)
    failed = (cost.public_id, form)
    return screens.render_rates(get_session(), structure, failed=failed, status=422)


@bp.post("/structures/<structure_id>/couts/<cost_id>/retrait")
@login_required
def remove_rate(structure_id: str, cost_id: str):
    """Remove an hourly cost entered by mistake."""
    structure = load_costed_structure_or_404(structure_id)
    cost = _cost_or_404(structure, cost_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if perform(form, operations.remove_hourly_cost, structure=structure, cost=cost) is not REFUSED:
        flash(_("Coût horaire retiré."), "success")
    flash_refusal(form)
    return _rates(structure)


@bp.get("/structures/<structure_id>/etat-des-depenses")
@login_required
def statement(structure_id: str):
    """The structure's statement of expenses over a period (the year so far by default)."""
    structure = load_costed_structure_or_404(structure_id)
    return screens.render_statement(get_session(), structure, request.args)


@bp.get("/structures/<structure_id>/etat-des-depenses.xlsx")
@login_required
def statement_xlsx(structure_id: str):
    """The same statement as a workbook: a summary, the lines, the other costs, what is out."""
    structure = load_costed_structure_or_404(structure_id)
    return screens.statement_download(get_session(), structure, request.args, ext="xlsx")


@bp.get("/structures/<structure_id>/etat-des-depenses.pdf")
@login_required
def statement_pdf(structure_id: str):
    """The same statement as a PDF for the employer to sign: the summary, then each protocol."""
    structure = load_costed_structure_or_404(structure_id)
    return screens.statement_download(get_session(), structure, request.args, ext="pdf")


# --- a funding claim: the period's packs and statement in one sealed ZIP, on the queue ---------


def _claim_or_404(structure, claim_id: str):
    claim = get_session().exec(
        select(ClaimArchive).where(
            ClaimArchive.public_id == claim_id, ClaimArchive.structure_id == structure.id
        )
    ).first()
    if claim is None:
        abort(404)
    return claim


@bp.post("/structures/<structure_id>/dossiers-de-financement")
@login_required
def ask_claim(structure_id: str):
    """Ask for the claim of the period shown: recorded, then built by the task queue."""
    structure = load_costed_structure_or_404(structure_id)
    form = EmptyForm()
    _period_form, period = screens.statement_period(request.form)
    claim = REFUSED
    if form.validate_on_submit() and period is not None:
        claim = perform(form, claims.ask, structure=structure, period=period)
    if claim is REFUSED:
        session = get_session()
        return screens.render_statement(session, structure, request.form, status=422)
    claims.build_claim(claim.public_id)
    target = url_for("costs.claim", structure_id=structure.public_id, claim_id=claim.public_id)
    return redirect(target)


@bp.get("/structures/<structure_id>/dossiers-de-financement/<claim_id>")
@login_required
def claim(structure_id: str, claim_id: str):
    """The claim's progress, then its download (the page asks again every two seconds while
    it is being built)."""
    structure = load_costed_structure_or_404(structure_id)
    found = _claim_or_404(structure, claim_id)
    return render(
        "costs/claim.html", partial="costs/_claim.html", structure=structure, claim=found
    )


@bp.get("/structures/<structure_id>/dossiers-de-financement/<claim_id>.zip")
@login_required
def claim_zip(structure_id: str, claim_id: str):
    """The claim's ZIP, once built."""
    structure = load_costed_structure_or_404(structure_id)
    found = _claim_or_404(structure, claim_id)
    path = claims.path_of(current_app, found)
    if found.state != "ready" or not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=claims.file_name(found),
    )


# --- a protocol's costs ---------------------------------------------------------------------


def _protocol(public_id: str):
    return load_protocol_or_404(public_id, require=policy.can_manage_costs)


def _back(protocol, anchor: str):
    return redirect(url_for("costs.protocol", public_id=protocol.public_id, _anchor=anchor))


@bp.get("/protocoles/<public_id>/depenses")
@login_required
def protocol(public_id: str):
    """A protocol's statement of expenses, its other costs and its evaluations' times."""
    return screens.render_protocol(get_session(), _protocol(public_id))


@bp.post("/protocoles/<public_id>/depenses")
@login_required
def add_other(public_id: str):
    """Add another cost to the protocol: the tutor's training, an outside help..."""
    protocol = _protocol(public_id)
    form = OtherCostForm()
    if form.validate_on_submit():
        arguments = {"protocol": protocol, **form.cost()}
        if perform(form, operations.add_other_cost, default="label", **arguments) is not REFUSED:
            flash(_("Coût enregistré."), "success")
            return _back(protocol, "autres-couts")
    return screens.render_protocol(get_session(), protocol, other_form=form, status=422)


@bp.post("/protocoles/<public_id>/depenses/<cost_id>/retrait")
@login_required
def remove_other(public_id: str, cost_id: str):
    """Remove another cost of the protocol, entered by mistake."""
    protocol = _protocol(public_id)
    cost = queries.other_cost(get_session(), protocol.id, cost_id)
    form = EmptyForm()
    if cost is None or not form.validate_on_submit():
        abort(404 if cost is None else 400)
    if perform(form, operations.remove_other_cost, protocol=protocol, cost=cost) is not REFUSED:
        flash(_("Coût retiré."), "success")
    flash_refusal(form)
    return _back(protocol, "autres-couts")


@bp.post("/protocoles/<public_id>/depenses/evaluations")
@login_required
def declare_time(public_id: str):
    """Declare how long the tutor spent on one of the protocol's evaluations."""
    protocol = _protocol(public_id)
    form = screens.evaluation_time_form(get_session(), protocol)
    if form.validate_on_submit():
        arguments = {"protocol": protocol, **form.declared()}
        if perform(form, operations.declare_evaluation_time, **arguments) is not REFUSED:
            flash(_("Temps de l'évaluation enregistré."), "success")
            return _back(protocol, "evaluations")
    return screens.render_protocol(get_session(), protocol, time_form=form, status=422)
