"""Organisations, for the administrator: structures, OPCOs, support bodies and cohorts
(lists, creation, edition), and the import of structures from a spreadsheet (sent, shown
row by row, then confirmed and saved whole)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from afest import policy
from afest.core import uploads
from afest.core.database import get_session, writing
from afest.core.forms import EmptyForm, SearchForm
from afest.core.http import perform, render, render_error
from afest.core.tabular import TabularError, megabytes, read_table
from afest.models import Cohort, Organisation, OrgKind
from afest.organisations import checks, imports, queries
from afest.organisations import operations as organisations
from afest.organisations.forms import (
    BodyForm,
    CohortForm,
    ImportForm,
    StructureForm,
    choices,
    consultant_choices,
)
from afest.policy.loaders import (
    load_managed_cohort_or_404,
    load_organisation_or_404,
    load_upload_or_404,
)

bp = Blueprint("organisations", __name__, url_prefix="/admin")
PAGE_SIZE = 50
KINDS = {"opco": OrgKind.OPCO, "accompagnement": OrgKind.SUPPORT_BODY}
KIND = "<any(opco, accompagnement):kind>"
BODY_TITLES = {
    "opco": (_l("OPCO"), _l("Nouvel OPCO"), _l("Aucun OPCO trouvé.")),
    "accompagnement": (
        _l("Organismes d'accompagnement"),
        _l("Nouvel organisme d'accompagnement"),
        _l("Aucun organisme d'accompagnement trouvé."),
    ),
}
IMPORT = "structures"  # the purpose of the files kept between preview and confirmation


@bp.context_processor
def _labels():
    return {"CATEGORY_LABELS": checks.CATEGORIES}


def _require() -> None:
    if not policy.can_manage_organisations(current_user):
        abort(403)


def _listing():
    """The search form, the needle and the page number of a list's query string."""
    form = SearchForm(request.args)
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 100_000 else 1
    needle = form.q.data if form.validate() and form.q.data else ""
    return form, needle, page


# --- structures ---------------------------------------------------------------------------


@bp.get("/structures")
@login_required
def structures():
    """Structures, searchable by name, SIRET, département or OPCO, fifty a page."""
    _require()
    form, needle, page = _listing()
    lines, has_more = queries.structures(get_session(), needle, page=page, size=PAGE_SIZE)
    return render(
        "organisations/structures.html",
        partial="organisations/_structures.html",
        lines=lines,
        has_more=has_more,
        page=page,
        form=form,
    )


def _structure_form(structure: Organisation | None = None, **kwargs) -> StructureForm:
    db = get_session()
    form = StructureForm(current_siret=structure.siret if structure else None, **kwargs)
    form.opco.choices = choices(queries.body_choices(db, OrgKind.OPCO), none=_("— Aucun —"))
    form.cohorts.choices = choices(queries.cohort_choices(db))
    return form


def _show_structure(form: StructureForm, structure: Organisation | None, status: int = 200):
    return render(
        "organisations/structure_form.html",
        form=form,
        structure=structure,
        siret_unchecked=structure is not None
        and structure.siret
        and form.siret.data == structure.siret
        and not form.siret.errors
        and not _valid_siret(structure.siret),
        status=status,
    )


def _valid_siret(siret: str) -> bool:
    try:
        checks.siret(siret)
    except ValueError:
        return False
    return True


@bp.get("/structures/nouvelle")
@login_required
def new_structure():
    """The form of a new structure."""
    _require()
    return _show_structure(_structure_form(formdata=None), None)


@bp.post("/structures/nouvelle")
@login_required
def create_structure():
    """Create a structure, or show each problem beside its field."""
    _require()
    form = _structure_form()
    if form.validate_on_submit():
        structure = perform(
            form,
            organisations.create_structure,
            default="name",
            data=form.structure_data(),
            cohort_ids=form.cohorts.data or (),
        )
        if structure:
            flash(_("Structure « %(name)s » créée.", name=structure.name), "success")
            return redirect(url_for("organisations.structures", q=structure.siret))
    return _show_structure(form, None, 422)


@bp.get("/structures/<public_id>")
@login_required
def edit_structure(public_id: str):
    """A structure's form, filled in."""
    structure = load_organisation_or_404(public_id, kinds=(OrgKind.STRUCTURE,))
    form = _structure_form(
        structure,
        formdata=None,
        data={
            "name": structure.name,
            "siret": structure.siret,
            "departement": structure.departement,
            "category": structure.category or "",
            "branch": structure.branch,
            "opco": structure.opco_id,
            "cohorts": queries.cohort_ids_of(get_session(), structure.id),
        },
    )
    return _show_structure(form, structure)


@bp.post("/structures/<public_id>")
@login_required
def update_structure(public_id: str):
    """Save a structure's changes; its protocols and dashboards follow (see operations)."""
    structure = load_organisation_or_404(public_id, kinds=(OrgKind.STRUCTURE,))
    form = _structure_form(structure)
    if form.validate_on_submit():
        done = perform(
            form,
            organisations.update_structure,
            default="name",
            structure=structure,
            data=form.structure_data(),
            cohort_ids=form.cohorts.data or (),
        )
        if done:
            flash(_("Structure « %(name)s » enregistrée.", name=done.name), "success")
            return redirect(url_for("organisations.structures", q=done.siret))
    return _show_structure(form, structure, 422)


# --- OPCOs and support bodies -------------------------------------------------------------


@bp.get(f"/{KIND}")
@login_required
def bodies(kind: str):
    """OPCOs or support bodies, searchable by name or code, fifty a page."""
    _require()
    form, needle, page = _listing()
    lines, has_more = queries.bodies(get_session(), KINDS[kind], needle, page=page, size=PAGE_SIZE)
    return render(
        "organisations/bodies.html",
        partial="organisations/_bodies.html",
        kind=kind,
        titles=BODY_TITLES[kind],
        lines=lines,
        has_more=has_more,
        page=page,
        form=form,
    )


def _show_body(form: BodyForm, kind: str, body: Organisation | None, status: int = 200):
    return render(
        "organisations/body_form.html",
        form=form,
        kind=kind,
        titles=BODY_TITLES[kind],
        body=body,
        status=status,
    )


@bp.get(f"/{KIND}/nouveau")
@login_required
def new_body(kind: str):
    """The form of a new OPCO or support body."""
    _require()
    return _show_body(BodyForm(formdata=None), kind, None)


@bp.post(f"/{KIND}/nouveau")
@login_required
def create_body(kind: str):
    """Create an OPCO or a support body."""
    _require()
    form = BodyForm()
    if form.validate_on_submit():
        body = perform(
            form,
            organisations.create_body,
            default="name",
            kind=KINDS[kind],
            name=form.name.data,
            code=form.code.data,
        )
        if body:
            flash(_("« %(name)s » créé.", name=body.name), "success")
            return redirect(url_for("organisations.bodies", kind=kind))
    return _show_body(form, kind, None, 422)


@bp.get(f"/{KIND}/<public_id>")
@login_required
def edit_body(kind: str, public_id: str):
    """An OPCO's or support body's form, filled in."""
    body = load_organisation_or_404(public_id, kinds=(KINDS[kind],))
    form = BodyForm(formdata=None, data={"name": body.name, "code": body.code})
    return _show_body(form, kind, body)


@bp.post(f"/{KIND}/<public_id>")
@login_required
def update_body(kind: str, public_id: str):
    """Rename an OPCO or a support body, or change its code."""
    body = load_organisation_or_404(public_id, kinds=(KINDS[kind],))
    form = BodyForm()
    if form.validate_on_submit():
        done = perform(
            form,
            organisations.update_body,
            default="name",
            body=body,
            name=form.name.data,
            code=form.code.data,
        )
        if done:
            flash(_("« %(name)s » enregistré.", name=done.name), "success")
            return redirect(url_for("organisations.bodies", kind=kind))
    return _show_body(form, kind, body, 422)


# --- cohorts ------------------------------------------------------------------------------


@bp.get("/cohortes")
@login_required
def cohorts():
    """Cohorts, searchable by code or name, latest first, fifty a page."""
    _require()
    form, needle, page = _listing()
    lines, has_more = queries.cohorts(get_session(), needle, page=page, size=PAGE_SIZE)
    return render(
        "organisations/cohorts.html",
        partial="organisations/_cohorts.html",
        lines=lines,
        has_more=has_more,
        page=page,
        form=form,
    )


def _cohort_form(**kwargs) -> CohortForm:
    db = get_session()
    form = CohortForm(**kwargs)
    none = _("— Aucun —")
    form.funder.choices = choices(queries.body_choices(db, OrgKind.OPCO), none=none)
    form.support_body.choices = choices(queries.body_choices(db, OrgKind.SUPPORT_BODY), none=none)
    form.consultants.choices = consultant_choices(queries.consultants(db))
    return form


def _show_cohort(form: CohortForm, cohort: Cohort | None, status: int = 200):
    members = queries.cohort_members(get_session(), cohort.id)[0] if cohort else []
    return render(
        "organisations/cohort_form.html", form=form, cohort=cohort, members=members, status=status
    )


@bp.get("/cohortes/nouvelle")
@login_required
def new_cohort():
    """The form of a new cohort."""
    _require()
    return _show_cohort(_cohort_form(formdata=None), None)


@bp.post("/cohortes/nouvelle")
@login_required
def create_cohort():
    """Create a cohort with its structures and consultants."""
    _require()
    form = _cohort_form()
    if form.validate_on_submit():
        cohort = perform(form, organisations.create_cohort, default="code", data=form.cohort_data())
        if cohort:
            flash(_("Cohorte « %(name)s » créée.", name=cohort.name), "success")
            return redirect(url_for("organisations.cohorts"))
    return _show_cohort(form, None, 422)


@bp.get("/cohortes/<public_id>")
@login_required
def edit_cohort(public_id: str):
    """A cohort's form, filled in."""
    cohort = load_managed_cohort_or_404(public_id)
    members, consultant_ids = queries.cohort_members(get_session(), cohort.id)
    form = _cohort_form(
        formdata=None,
        data={
            "code": cohort.code,
            "name": cohort.name,
            "description": cohort.description,
            "funder": cohort.funder_id,
            "support_body": cohort.support_body_id,
            "starts_on": cohort.starts_on,
            "ends_on": cohort.ends_on,
            "structures": "\n".join(f"{s.siret} — {s.name}" for s in members if s.siret),
            "consultants": consultant_ids,
        },
    )
    return _show_cohort(form, cohort)


@bp.post("/cohortes/<public_id>")
@login_required
def update_cohort(public_id: str):
    """Save a cohort; structures leaving it take their drafts out of it (see operations)."""
    cohort = load_managed_cohort_or_404(public_id)
    form = _cohort_form()
    if form.validate_on_submit():
        done = perform(
            form,
            organisations.update_cohort,
            default="code",
            cohort=cohort,
            data=form.cohort_data(),
        )
        if done:
            flash(_("Cohorte « %(name)s » enregistrée.", name=done.name), "success")
            return redirect(url_for("organisations.cohorts"))
    return _show_cohort(form, cohort, 422)


# --- import of structures -----------------------------------------------------------------


def _limits() -> dict:
    return {
        "max_size": megabytes(imports.MAX_BYTES),
        "max_rows": f"{imports.MAX_ROWS:,}".replace(",", " "),
    }


def _show_import(form: ImportForm, status: int = 200):
    return render("organisations/import.html", upload_form=form, status=status, **_limits())


@bp.errorhandler(413)
def _too_big(_exc):
    """A request larger than the app takes: said beside the file field, as any bad file."""
    if request.endpoint != "organisations.upload_import":
        return render_error(413)
    form = ImportForm(formdata=None)
    form.file.errors = [_("Le fichier dépasse %(size)s Mo.", size=megabytes(imports.MAX_BYTES))]
    return _show_import(form, 413)


@bp.get("/structures/import")
@login_required
def import_form():
    """The form to send a file of structures."""
    _require()
    return _show_import(ImportForm(formdata=None))


@bp.post("/structures/import")
@login_required
def upload_import():
    """Keep a readable file and show its preview; a bad file is answered beside the field."""
    _require()
    form = ImportForm()
    if form.validate_on_submit():
        with writing() as session:
            upload = uploads.keep(
                session,
                owner_id=current_user.id,
                purpose=IMPORT,
                filename=form.filename,
                content=form.content,
            )
        return redirect(url_for("organisations.preview_import", public_id=upload.public_id), 303)
    return _show_import(form, 422)


def _show_preview(upload, judged: imports.Preview | None, status: int = 200, problem=None):
    return render(
        "organisations/import_preview.html",
        upload=upload,
        preview=judged,
        problem=problem,
        form=EmptyForm(),
        upload_form=ImportForm(formdata=None),
        status=status,
        **_limits(),
    )


@bp.get("/structures/import/<public_id>")
@login_required
def preview_import(public_id: str):
    """Every row of the file sent, with what importing it does or its problems."""
    upload = load_upload_or_404(public_id, purpose=IMPORT, require=policy.can_manage_organisations)
    try:
        table = read_table(upload.content, imports.COLUMNS, max_rows=imports.MAX_ROWS)
    except TabularError as exc:
        return _show_preview(upload, None, 422, problem=exc.message)
    return _show_preview(upload, imports.preview(get_session(), table))


@bp.post("/structures/import/<public_id>")
@login_required
def confirm_import(public_id: str):
    """Save every row of the file previewed in one write, or nothing if a row has a problem
    now (the rows are judged again: the database may have changed since the preview)."""
    upload = load_upload_or_404(public_id, purpose=IMPORT, require=policy.can_manage_organisations)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        table = read_table(upload.content, imports.COLUMNS, max_rows=imports.MAX_ROWS)
        with writing() as session:
            judged = imports.import_rows(
                session,
                actor_id=current_user.id,
                table=table,
                filename=upload.filename,
                sha256=upload.sha256,
            )
            uploads.discard(session, upload)
    except TabularError as exc:
        return _show_preview(upload, None, 422, problem=exc.message)
    except imports.ImportRejected as exc:
        return _show_preview(upload, exc.preview, 422)
    counts = judged.counts
    flash(
        _(
            "Import enregistré : %(new)s structure(s) créée(s), %(changed)s mise(s) à jour, "
            "%(same)s inchangée(s).",
            new=counts[imports.NEW],
            changed=counts[imports.CHANGED],
            same=counts[imports.SAME],
        ),
        "success",
    )
    return redirect(url_for("organisations.structures"))
