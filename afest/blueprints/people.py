"""The people of a structure: the list, adding and inviting, importing a file of people (sent,
shown row by row, then confirmed and saved whole), roles, deactivation, handing a leaving
tutor's protocols over. For the structure's managers, and the admin everywhere."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from afest import policy
from afest.accounts import imports, people, people_pages
from afest.accounts.forms import (
    ActiveForm,
    PeopleImportForm,
    PersonForm,
    RolesForm,
)
from afest.core import importing
from afest.core.database import get_session
from afest.core.forms import EmptyForm
from afest.core.http import flash_refusal, perform, render, render_error
from afest.policy.loaders import load_managed_structure_or_404, load_upload_or_404
from afest.protocols import tutors

bp = Blueprint("people", __name__, url_prefix="/structures")


def _person_or_404(structure, public_id: str) -> people.Person:
    person = people.person_of(get_session(), structure.id, public_id)
    if person is None:
        abort(404)
    return person


def _back(structure, person=None):
    if person is None:
        return redirect(url_for("people.roster", structure_id=structure.public_id))
    return redirect(
        url_for("people.person", structure_id=structure.public_id, public_id=person.user.public_id)
    )


@bp.get("/personnes")
@login_required
def index():
    """The structures whose people the actor runs; straight to the one when there is one."""
    if not policy.can_list_people(current_user):
        abort(403)
    structures = people.managed_structures(get_session(), current_user)
    if len(structures) == 1:
        return redirect(url_for("people.roster", structure_id=structures[0].public_id))
    return render("people/index.html", structures=structures)


@bp.route("/<structure_id>/personnes", methods=["GET", "POST"])
@login_required
def roster(structure_id: str):
    """The structure's people with their roles and state; adding someone invites her."""
    structure = load_managed_structure_or_404(structure_id)
    form = PersonForm()
    if form.validate_on_submit():
        added = perform(form, people.add_person, structure_id=structure.id, **form.person())
        if added:
            flash(people.added_message(*added), "success")
            return _back(structure)
    return render("people/roster.html", **people_pages.roster(get_session(), structure, form))


@bp.route("/<structure_id>/personnes/<public_id>", methods=["GET", "POST"])
@login_required
def person(structure_id: str, public_id: str):
    """One person of the structure: her roles there, her state, her invitation."""
    structure = load_managed_structure_or_404(structure_id)
    found = _person_or_404(structure, public_id)
    form = RolesForm(data={"roles": [r.value for r in found.roles]})
    if form.validate_on_submit() and perform(
        form, people.set_roles, user=found.user, structure_id=structure.id, roles=form.roles.data
    ):
        flash(_("Rôles enregistrés."), "success")
        return _back(structure, found)
    return render("people/person.html", **people_pages.person(structure, found, form))


@bp.post("/<structure_id>/personnes/<public_id>/actif")
@login_required
def set_active(structure_id: str, public_id: str):
    """Deactivate (her sessions end at once) or reactivate a person of the structure."""
    structure = load_managed_structure_or_404(structure_id)
    found = _person_or_404(structure, public_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.active.data == "1"
    if perform(form, people.set_active, user=found.user, structure_id=structure.id, active=active):
        flash(
            _("Compte réactivé.") if active else _("Compte désactivé : ses sessions sont fermées."),
            "success",
        )
    flash_refusal(form)
    return _back(structure, found)


@bp.post("/<structure_id>/personnes/<public_id>/invitation")
@login_required
def reinvite(structure_id: str, public_id: str):
    """Send a new invitation (the previous link stops working)."""
    structure = load_managed_structure_or_404(structure_id)
    found = _person_or_404(structure, public_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if perform(form, people.reinvite, user=found.user):
        flash(_("Invitation envoyée à %(email)s.", email=found.user.email), "success")
    flash_refusal(form)
    return _back(structure, found)


@bp.route("/<structure_id>/personnes/<public_id>/remplacement", methods=["GET", "POST"])
@login_required
def replace_tutor(structure_id: str, public_id: str):
    """A tutor's open protocols, each handed over to a tutor of the structure, in one screen."""
    structure = load_managed_structure_or_404(structure_id)
    found = _person_or_404(structure, public_id)
    form, candidates = people_pages.handover_form(get_session(), structure, found)
    leaving = {"structure_id": structure.id, "leaving_id": found.user.id}
    if form.validate_on_submit() and perform(
        form, tutors.replace_tutor, default="choices", **leaving, choices=form.choices()
    ):
        flash(_("Protocoles repris : chaque désignation est datée d'aujourd'hui."), "success")
        return _back(structure, found)
    page = people_pages.handover(structure, found, form, candidates)
    return render("people/replace_tutor.html", **page)


# --- import of people ---------------------------------------------------------------------


def _purpose(structure) -> str:
    """A file sent for one structure is confirmed into that one only."""
    return f"people:{structure.id}"


def _show_import(structure, form: PeopleImportForm, status: int = 200):
    return render(
        "people/import.html",
        structure=structure,
        upload_form=form,
        status=status,
        **imports.SPEC.limits(),
    )


@bp.errorhandler(413)
def _too_big(_exc):
    """A request larger than the app takes: said beside the file field, as any bad file."""
    if request.endpoint != "people.upload_import" or not current_user.is_authenticated:
        return render_error(413)
    try:  # the app's limit may be met before the view ran (the CSRF check reads the form)
        structure = load_managed_structure_or_404(request.view_args["structure_id"])
    except NotFound:
        return render_error(404)
    return _show_import(structure, PeopleImportForm(formdata=None).too_big(), 413)


@bp.get("/<structure_id>/personnes/import")
@login_required
def import_form(structure_id: str):
    """The form to send a file of people."""
    structure = load_managed_structure_or_404(structure_id)
    return _show_import(structure, PeopleImportForm(formdata=None))


@bp.post("/<structure_id>/personnes/import")
@login_required
def upload_import(structure_id: str):
    """Keep a readable file and show its preview; a bad file is answered beside the field."""
    structure = load_managed_structure_or_404(structure_id)
    form = PeopleImportForm()
    if not form.validate_on_submit():
        return _show_import(structure, form, 422)
    upload = importing.keep(form, owner_id=current_user.id, purpose=_purpose(structure))
    return redirect(
        url_for("people.preview_import", structure_id=structure_id, upload_id=upload.public_id),
        303,
    )


def _upload_or_404(structure, upload_id: str):
    return load_upload_or_404(
        upload_id,
        purpose=_purpose(structure),
        require=lambda actor: policy.can_manage_people(actor, structure.id),
    )


def _show_preview(structure, upload, outcome: importing.Outcome):
    return render(
        "people/import_preview.html",
        structure=structure,
        upload=upload,
        preview=outcome.preview,
        problem=outcome.problem,
        form=EmptyForm(),
        upload_form=PeopleImportForm(formdata=None),
        status=outcome.status,
        **imports.SPEC.limits(),
    )


@bp.get("/<structure_id>/personnes/import/<upload_id>")
@login_required
def preview_import(structure_id: str, upload_id: str):
    """Every row of the file sent, with what importing it does or its problems."""
    structure = load_managed_structure_or_404(structure_id)
    upload = _upload_or_404(structure, upload_id)
    outcome = imports.PEOPLE.show(upload, structure_id=structure.id, actor_id=current_user.id)
    return _show_preview(structure, upload, outcome)


@bp.post("/<structure_id>/personnes/import/<upload_id>")
@login_required
def confirm_import(structure_id: str, upload_id: str):
    """Save the file previewed in one write, judged again: nothing if a row has a problem now."""
    structure = load_managed_structure_or_404(structure_id)
    upload = _upload_or_404(structure, upload_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    outcome = imports.PEOPLE.confirm(upload, actor_id=current_user.id, structure_id=structure.id)
    if not outcome.saved:
        return _show_preview(structure, upload, outcome)
    flash(imports.saved_message(outcome.preview), "success")
    return _back(structure)
