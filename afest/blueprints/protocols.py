"""Protocols: the manager's list (with those at risk), drafting, initial positioning, the
three-party signature, pause and resumption, completion or stop; the page everyone in scope
reads, with the checklist of the four legal conditions for the manager and the tutors."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.accounts.login import confirms_own_password
from afest.assessments.forms import PositioningForm
from afest.core.database import get_session, writing
from afest.core.errors import ServiceError
from afest.core.http import REFUSED, perform, render
from afest.models import Protocol, Role
from afest.policy.loaders import load_protocol_or_404
from afest.protocols import compliance, drafting, overview, pausing
from afest.protocols import operations as protocols
from afest.protocols import screens as pf
from afest.protocols.forms import PauseForm, PlanForm, ProtocolForm, ResumeForm, SignForm, StopForm

bp = Blueprint("protocols", __name__, url_prefix="/protocoles")


def _settings() -> compliance.Settings:
    return compliance.Settings.from_config(current_app.config)


@bp.get("/")
@login_required
def index():
    """The manager's protocols, optionally filtered by status; those at risk are marked."""
    if not current_user.has(Role.MANAGER):
        abort(403)
    status = overview.status_filter(request.args.get("statut"))
    items = overview.managed_protocols(get_session(), current_user, status=status)
    checks = compliance.check_many(get_session(), items, settings=_settings())
    return render(
        "protocols/index.html",
        partial="protocols/_list.html",
        protocols=items,
        checks=checks,
        chosen_status=status,
    )


def _show(protocol: Protocol, *, status: int = 200, **forms):
    """The protocol's page, with a form posted in vain (sign_form=..., ...) and its status."""
    return pf.render_show(protocol, current_user, settings=_settings(), status=status, **forms)


@bp.get("/<public_id>")
@login_required
def show(public_id: str):
    """A protocol: parties, scope by block, plan, sequences, evaluations, signatures, checklist."""
    return _show(load_protocol_or_404(public_id))


@bp.get("/nouveau")
@login_required
def new():
    """The form of a new protocol."""
    if not current_user.has(Role.MANAGER):
        abort(403)
    form = ProtocolForm(formdata=None)
    pf.fill_choices(form, current_user, request.args.get("referential", type=int))
    return render("protocols/edit.html", form=form, protocol=None)


@bp.post("/nouveau")
@login_required
def create():
    """Draft a protocol for a learner of one of the manager's structures."""
    if not current_user.has(Role.MANAGER):
        abort(403)
    form = ProtocolForm()
    pf.fill_choices(form, current_user, form.referential.data)
    if form.validate_on_submit():
        args = pf.create_args(form, current_user)
        if protocol := perform(form, drafting.create_protocol, default="title", **args):
            return redirect(url_for("protocols.show", public_id=protocol.public_id))
    return render("protocols/edit.html", form=form, protocol=None, status=422)


@bp.get("/<public_id>/modifier")
@login_required
def edit(public_id: str):
    """The draft's form, its plan and its initial positioning."""
    protocol = load_protocol_or_404(public_id, require=policy.can_edit_draft)
    form = pf.form_of(get_session(), protocol)
    pf.fill_choices(form, current_user, request.args.get("referential", type=int) or None)
    return pf.render_edit(protocol, form)


@bp.post("/<public_id>/modifier")
@login_required
def update(public_id: str):
    """Rewrite the draft."""
    protocol = load_protocol_or_404(public_id, require=policy.can_edit_draft)
    form = ProtocolForm()
    pf.fill_choices(form, current_user, form.referential.data)
    if form.validate_on_submit():
        args = pf.create_args(form, current_user)
        del args["learner"], args["structure"]
        done = perform(form, drafting.update_draft, default="title", protocol=protocol, **args)
        if done is not REFUSED:
            flash(_("Protocole enregistré."), "success")
            return redirect(url_for("protocols.edit", public_id=public_id))
    return pf.render_edit(protocol, form, status=422)


@bp.post("/<public_id>/planning")
@login_required
def add_plan(public_id: str):
    """Add a planned sequence to the draft."""
    protocol = load_protocol_or_404(public_id, require=policy.can_edit_draft)
    form = PlanForm()
    if form.validate_on_submit():
        arguments = {"protocol": protocol, **form.plan()}
        done = perform(form, drafting.add_planned_sequences, default="planned_on", **arguments)
        if done is not REFUSED:
            return redirect(url_for("protocols.edit", public_id=public_id, _anchor="planning"))
    return pf.render_edit(protocol, plan_form=form, status=422)


@bp.post("/<public_id>/positionnement")
@login_required
def positioning(public_id: str):
    """Record the initial positioning: the level held on each targeted competence."""
    protocol = load_protocol_or_404(public_id, require=policy.can_edit_draft)
    form = PositioningForm()
    if form.validate_on_submit():
        arguments = {"protocol": protocol, "levels": form.levels}
        if perform(form, drafting.set_initial_positioning, **arguments) is not REFUSED:
            flash(_("Positionnement initial enregistré."), "success")
            return redirect(
                url_for("protocols.edit", public_id=public_id, _anchor="positionnement")
            )
    return pf.render_edit(protocol, positioning_form=form, status=422)


@bp.post("/<public_id>/soumettre")
@login_required
def submit(public_id: str):
    """Freeze the draft and send it for the three signatures."""
    return _transition(public_id, policy.can_edit_draft, protocols.submit_for_signature)


def _transition(public_id: str, require, change):
    """A change of status with nothing to type: done, or its refusal flashed on the page."""
    protocol = load_protocol_or_404(public_id, require=require)
    try:
        with writing() as session:
            change(session, actor_id=current_user.id, protocol=protocol)
    except ServiceError as exc:
        flash(exc.message, "error")
        return _show(protocol, status=422)
    return redirect(url_for("protocols.show", public_id=public_id))


@bp.post("/<public_id>/signer")
@login_required
def sign(public_id: str):
    """One party signs, confirming with their password; the third signature opens training."""
    protocol = load_protocol_or_404(public_id, require=policy.can_sign_protocol)
    form = SignForm()
    signed = {str(s.signer_role) for s in pf.protocol_signatures(protocol)}
    form.role.choices = pf.sign_roles(current_user, protocol, signed)
    if form.validate_on_submit() and confirms_own_password(form):
        arguments = {"protocol": protocol, "role": form.role.data, "method": "password"}
        if perform(form, protocols.sign_protocol, default="role", **arguments) is not REFUSED:
            flash(_("Protocole signé."), "success")
            return redirect(url_for("protocols.show", public_id=public_id))
    return _show(protocol, sign_form=form, status=422)


@bp.post("/<public_id>/terminer")
@login_required
def complete(public_id: str):
    """Close the protocol once its final bilan is signed."""
    return _transition(public_id, policy.can_close_protocol, protocols.complete_protocol)


@bp.post("/<public_id>/arreter")
@login_required
def stop(public_id: str):
    """Stop the protocol before its end, with a reason."""
    protocol = load_protocol_or_404(public_id, require=policy.can_close_protocol)
    form = StopForm()
    if form.validate_on_submit():
        reason = form.reason.data
        stopped = perform(
            form, protocols.stop_protocol, default="reason", protocol=protocol, reason=reason
        )
        if stopped is not REFUSED:
            return redirect(url_for("protocols.show", public_id=public_id))
    return _show(protocol, stop_form=form, status=422)


@bp.post("/<public_id>/pause")
@login_required
def pause(public_id: str):
    """Put the protocol on hold from a day, with a reason (the manager)."""
    protocol = load_protocol_or_404(public_id, require=policy.can_pause_protocol)
    form = PauseForm()
    if form.validate_on_submit():
        done = perform(form, pausing.pause, default="reason", protocol=protocol, **form.pause())
        if done is not REFUSED:
            flash(_("Protocole mis en pause."), "success")
            return redirect(url_for("protocols.show", public_id=public_id, _anchor="pauses"))
    return _show(protocol, pause_form=form, status=422)


@bp.post("/<public_id>/reprise")
@login_required
def resume(public_id: str):
    """End the protocol's pause on a given day (the manager)."""
    protocol = load_protocol_or_404(public_id, require=policy.can_pause_protocol)
    form = ResumeForm()
    if form.validate_on_submit():
        arguments = {"protocol": protocol, "resumed_on": form.resumed_on.data}
        if perform(form, pausing.resume, default="resumed_on", **arguments) is not REFUSED:
            flash(_("Protocole repris."), "success")
            return redirect(url_for("protocols.show", public_id=public_id, _anchor="pauses"))
    return _show(protocol, resume_form=form, status=422)
