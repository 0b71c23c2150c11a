"""Référentiels: the list, imports (JSON, France compétences CSV) and the editor of a
structure's own référentiel (blocks, competences or missions, level scale)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.core.database import get_session, writing
from afest.core.http import REFUSED, perform, render
from afest.models import Referential
from afest.policy.loaders import load_referential_or_404
from afest.referentials import editor, queries
from afest.referentials import operations as referentials
from afest.referentials import screens as referential_screens
from afest.referentials.forms import (
    BlockForm,
    CompetenceForm,
    ImportForm,
    LevelsForm,
    ReferentialForm,
)

bp = Blueprint("referentials", __name__, url_prefix="/referentiels")


def _require(rule) -> None:
    if not rule(current_user):
        abort(403)


@bp.get("/")
@login_required
def index():
    """Référentiels the actor may use: national ones and their structure's own."""
    _require(policy.can_list_referentials)
    items = queries.visible(get_session(), current_user)
    return render("referentials/index.html", referentials=items)


@bp.get("/importer")
@login_required
def import_form():
    """The import form."""
    _require(policy.can_import_referentials)
    return render("referentials/import.html", form=ImportForm(), problems=[])


@bp.post("/importer")
@login_required
def import_file():
    """Import a file whole, or list each bad line and import nothing."""
    _require(policy.can_import_referentials)
    form = ImportForm()
    problems: list = []
    if form.validate_on_submit():
        try:
            with writing() as session:
                refs = referentials.import_file(session, actor_id=current_user.id, **form.upload())
        except referentials.ImportRejected as exc:
            problems = exc.problems
        else:
            flash(_("%(n)s référentiel(s) importé(s).", n=len(refs)), "success")
            return redirect(url_for("referentials.index"))
    return render("referentials/import.html", form=form, problems=problems, status=422)


@bp.get("/nouveau")
@login_required
def new():
    """Form for a structure's own référentiel."""
    _require(policy.can_list_referentials)
    form = ReferentialForm()
    form.structure.choices = queries.structures_for(get_session(), current_user)
    return render("referentials/new.html", form=form)


@bp.post("/nouveau")
@login_required
def create():
    """Create a structure's own référentiel with the default level scale."""
    _require(policy.can_list_referentials)
    form = ReferentialForm()
    form.structure.choices = queries.structures_for(get_session(), current_user)
    if form.validate_on_submit():
        ref = perform(
            form, editor.create_structure_referential, default="code", **form.new_referential()
        )
        if ref:
            return redirect(url_for("referentials.show", public_id=ref.public_id))
    return render("referentials/new.html", form=form, status=422)


def _editor(ref: Referential, status: int = 200, **forms):
    page = referential_screens.editor_page(get_session(), current_user, ref, **forms)
    return render("referentials/show.html", status=status, **page)


@bp.get("/<public_id>")
@login_required
def show(public_id: str):
    """A référentiel: blocks, competences, level scale; the editor when allowed."""
    return _editor(load_referential_or_404(public_id))


@bp.post("/<public_id>/blocs")
@login_required
def add_block(public_id: str):
    """Add a block."""
    ref = load_referential_or_404(public_id, require=policy.can_edit_referential)
    form = BlockForm()
    if form.validate_on_submit():
        added = perform(form, editor.add_block, default="code", referential=ref, **form.new_block())
        if added is not REFUSED:
            return redirect(url_for("referentials.show", public_id=public_id))
    return _editor(ref, 422, block_form=form)


@bp.post("/<public_id>/competences")
@login_required
def add_competence(public_id: str):
    """Add a competence (mission) to one of the référentiel's blocks."""
    ref = load_referential_or_404(public_id, require=policy.can_edit_referential)
    form = CompetenceForm.of_blocks(queries.full(get_session(), ref.id).blocks)
    if form.validate_on_submit():
        added = perform(form, editor.add_competence, default="code", **form.new_competence())
        if added is not REFUSED:
            return redirect(url_for("referentials.show", public_id=public_id))
    return _editor(ref, 422, competence_form=form)


@bp.post("/<public_id>/niveaux")
@login_required
def set_levels(public_id: str):
    """Replace the level scale (while no assessment uses it)."""
    ref = load_referential_or_404(public_id, require=policy.can_edit_referential)
    form = LevelsForm()
    if form.validate_on_submit():
        levels = editor.parse_levels(form.levels.data)
        done = perform(form, editor.set_levels, referential=ref, levels=levels)
        if done is not REFUSED:
            return redirect(url_for("referentials.show", public_id=public_id))
    return _editor(ref, 422, levels_form=form)
