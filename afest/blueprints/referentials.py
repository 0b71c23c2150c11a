"""Référentiels: the list, imports (JSON, France compétences CSV) and the editor of a
structure's own référentiel (blocks, competences or missions, level scale)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from sqlmodel import select

from afest import policy
from afest.core.database import get_session, writing
from afest.core.errors import ServiceError, form_error
from afest.core.http import render
from afest.models import CompetenceBlock, Organisation, Referential, Role
from afest.policy.loaders import load_referential_or_404
from afest.referentials import editor as referential_editor
from afest.referentials import operations as referentials
from afest.referentials.forms import (
    BlockForm,
    CompetenceForm,
    ImportForm,
    LevelsForm,
    ReferentialForm,
)

bp = Blueprint("referentials", __name__, url_prefix="/referentiels")
MAX_UPLOAD = 5 * 1024 * 1024


def _require(rule) -> None:
    if not rule(current_user):
        abort(403)


def _structures() -> list[tuple[int, str]]:
    query = select(Organisation.id, Organisation.name).where(policy.structure_visible(current_user))
    if not current_user.has(Role.ADMIN):
        query = query.where(Organisation.id.in_(current_user.orgs(Role.MANAGER)))
    return [(oid, name) for oid, name in get_session().exec(query.order_by(Organisation.name))]


def _full(referential_id: int) -> Referential:
    return (
        get_session()
        .exec(
            select(Referential)
            .where(Referential.id == referential_id)
            .options(
                selectinload(Referential.blocks).selectinload(CompetenceBlock.competences),
                selectinload(Referential.levels),
            )
        )
        .one()
    )


@bp.get("/")
@login_required
def index():
    """Référentiels the actor may use: national ones and their structure's own."""
    _require(policy.can_list_referentials)
    items = get_session().exec(
        select(Referential)
        .where(policy.referential_visible(current_user))
        .order_by(Referential.kind, Referential.code)
    )
    return render("referentials/index.html", referentials=list(items))


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
        raw = form.file.data.read(MAX_UPLOAD + 1)
        try:
            if len(raw) > MAX_UPLOAD:
                raise ServiceError(_("Le fichier dépasse 5 Mo."), field="file")
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            form.file.errors.append(_("Le fichier doit être encodé en UTF-8."))
        except ServiceError as exc:
            form_error(form, exc, default="file")
        else:
            try:
                with writing() as session:
                    if form.kind.data == "csv":
                        refs = referentials.import_blocks_csv(
                            session, actor_id=current_user.id, text=text
                        )
                    else:
                        refs = [
                            referentials.import_json_text(
                                session, actor_id=current_user.id, text=text
                            )
                        ]
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
    form.structure.choices = _structures()
    return render("referentials/new.html", form=form)


@bp.post("/nouveau")
@login_required
def create():
    """Create a structure's own référentiel with the default level scale."""
    _require(policy.can_list_referentials)
    form = ReferentialForm()
    form.structure.choices = _structures()
    if form.validate_on_submit():
        try:
            with writing() as session:
                ref = referential_editor.create_structure_referential(
                    session,
                    actor_id=current_user.id,
                    structure_id=form.structure.data,
                    code=form.code.data,
                    title=form.title.data,
                )
        except ServiceError as exc:
            form_error(form, exc, default="code")
        else:
            return redirect(url_for("referentials.show", public_id=ref.public_id))
    return render("referentials/new.html", form=form, status=422)


def _editor(ref: Referential, status: int = 200, **forms):
    full = _full(ref.id)
    block_form = forms.get("block_form") or BlockForm(formdata=None)
    competence_form = forms.get("competence_form") or CompetenceForm(formdata=None)
    competence_form.block.choices = [(b.id, f"{b.code} — {b.title}") for b in full.blocks]
    levels_form = forms.get("levels_form") or LevelsForm(
        formdata=None,
        levels="\n".join(lv.label + (" *" if lv.acquired else "") for lv in full.levels),
    )
    return render(
        "referentials/show.html",
        ref=full,
        editable=policy.can_edit_referential(current_user, ref),
        block_form=block_form,
        competence_form=competence_form,
        levels_form=levels_form,
        status=status,
    )


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
        try:
            with writing() as session:
                referential_editor.add_block(
                    session,
                    actor_id=current_user.id,
                    referential=ref,
                    code=form.code.data,
                    title=form.title.data,
                )
        except ServiceError as exc:
            form_error(form, exc, default="code")
        else:
            return redirect(url_for("referentials.show", public_id=public_id))
    return _editor(ref, 422, block_form=form)


@bp.post("/<public_id>/competences")
@login_required
def add_competence(public_id: str):
    """Add a competence (mission) to one of the référentiel's blocks."""
    ref = load_referential_or_404(public_id, require=policy.can_edit_referential)
    form = CompetenceForm()
    blocks = {b.id: b for b in _full(ref.id).blocks}
    form.block.choices = [(b.id, b.code) for b in blocks.values()]
    if form.validate_on_submit():
        try:
            with writing() as session:
                referential_editor.add_competence(
                    session,
                    actor_id=current_user.id,
                    block=blocks[form.block.data],
                    code=form.code.data,
                    title=form.title.data,
                )
        except ServiceError as exc:
            form_error(form, exc, default="code")
        else:
            return redirect(url_for("referentials.show", public_id=public_id))
    return _editor(ref, 422, competence_form=form)


@bp.post("/<public_id>/niveaux")
@login_required
def set_levels(public_id: str):
    """Replace the level scale (while no assessment uses it)."""
    ref = load_referential_or_404(public_id, require=policy.can_edit_referential)
    form = LevelsForm()
    if form.validate_on_submit():
        try:
            with writing() as session:
                referential_editor.set_levels(
                    session,
                    actor_id=current_user.id,
                    referential=ref,
                    levels=referential_editor.parse_levels(form.levels.data),
                )
        except ServiceError as exc:
            form_error(form, exc, default="levels")
        else:
            return redirect(url_for("referentials.show", public_id=public_id))
    return _editor(ref, 422, levels_form=form)
