"""Organisations, for the administrator: structures, OPCOs, support bodies and cohorts
(lists, creation, edition), and the members of OPCOs and support bodies. Lists and blank
forms answer 403 to anybody else, as every administrator's screen does; an organisation's,
a member's or a cohort's page 404 (its loader's). The import of structures from a
spreadsheet is organisation_imports'."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.accounts import members, people
from afest.core.database import get_session
from afest.core.forms import EmptyForm
from afest.core.http import flash_refusal, perform, render
from afest.models import OrgKind
from afest.organisations import checks, cohorts, queries, screens
from afest.organisations import operations as organisations
from afest.organisations.forms import MemberForm, body_form, cohort_form, structure_form
from afest.organisations.screens import BODY_TITLES, KINDS
from afest.policy.loaders import (
    load_managed_cohort_or_404,
    load_member_or_404,
    load_organisation_or_404,
)

bp = Blueprint("organisations", __name__, url_prefix="/admin")
PAGE_SIZE = 50
KIND = "<any(opco, accompagnement):kind>"
STRUCTURE = (OrgKind.STRUCTURE,)


@bp.context_processor
def _labels():
    return {"CATEGORY_LABELS": checks.CATEGORIES}


def _require() -> None:
    """The lists and blank forms: the administrator's (403 for anybody else)."""
    if not policy.can_manage_organisations(current_user):
        abort(403)


# --- structures ---------------------------------------------------------------------------


@bp.get("/structures")
@login_required
def structures():
    """Structures, searchable by name, SIRET, département or OPCO, fifty a page."""
    _require()
    form, needle, page = screens.listing(request.args)
    lines, has_more = queries.structures(get_session(), needle, page=page, size=PAGE_SIZE)
    return render(
        "organisations/structures.html",
        partial="organisations/_structures.html",
        lines=lines,
        has_more=has_more,
        page=page,
        form=form,
    )


@bp.get("/structures/nouvelle")
@login_required
def new_structure():
    """The form of a new structure."""
    _require()
    return screens.structure_page(structure_form(get_session(), posted=False), None)


@bp.post("/structures/nouvelle")
@login_required
def create_structure():
    """Create a structure, or show each problem beside its field."""
    _require()
    form = structure_form(get_session())
    if form.validate_on_submit() and (
        structure := perform(
            form, organisations.create_structure, default="name", **form.structure()
        )
    ):
        flash(_("Structure « %(name)s » créée.", name=structure.name), "success")
        return redirect(url_for("organisations.structures", q=structure.siret))
    return screens.structure_page(form, None, 422)


@bp.get("/structures/<public_id>")
@login_required
def edit_structure(public_id: str):
    """A structure's form, filled in."""
    structure = load_organisation_or_404(public_id, kinds=STRUCTURE)
    form = structure_form(get_session(), structure, posted=False)
    return screens.structure_page(form, structure)


@bp.post("/structures/<public_id>")
@login_required
def update_structure(public_id: str):
    """Save a structure's changes; its protocols and dashboards follow (see moves)."""
    structure = load_organisation_or_404(public_id, kinds=STRUCTURE)
    form = structure_form(get_session(), structure)
    if form.validate_on_submit() and perform(
        form,
        organisations.update_structure,
        default="name",
        structure=structure,
        **form.structure(),
    ):
        flash(_("Structure « %(name)s » enregistrée.", name=structure.name), "success")
        return redirect(url_for("organisations.structures", q=structure.siret))
    return screens.structure_page(form, structure, 422)


# --- OPCOs and support bodies -------------------------------------------------------------


@bp.get(f"/{KIND}")
@login_required
def bodies(kind: str):
    """OPCOs or support bodies, searchable by name or code, fifty a page."""
    _require()
    form, needle, page = screens.listing(request.args)
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


@bp.get(f"/{KIND}/nouveau")
@login_required
def new_body(kind: str):
    """The form of a new OPCO or support body."""
    _require()
    return screens.body_page(kind, body_form(posted=False), None)


@bp.post(f"/{KIND}/nouveau")
@login_required
def create_body(kind: str):
    """Create an OPCO or a support body."""
    _require()
    form = body_form()
    if form.validate_on_submit() and (
        body := perform(
            form, organisations.create_body, default="name", kind=KINDS[kind], **form.body()
        )
    ):
        flash(_("« %(name)s » créé.", name=body.name), "success")
        return redirect(url_for("organisations.bodies", kind=kind))
    return screens.body_page(kind, form, None, status=422)


@bp.get(f"/{KIND}/<public_id>")
@login_required
def edit_body(kind: str, public_id: str):
    """An OPCO's or support body's form, filled in."""
    body = load_organisation_or_404(public_id, kinds=(KINDS[kind],))
    return screens.body_page(kind, body_form(body, posted=False), body)


@bp.post(f"/{KIND}/<public_id>")
@login_required
def update_body(kind: str, public_id: str):
    """Rename an OPCO or a support body, or change its code."""
    body = load_organisation_or_404(public_id, kinds=(KINDS[kind],))
    form = body_form()
    if form.validate_on_submit() and perform(
        form, organisations.update_body, default="name", body=body, **form.body()
    ):
        flash(_("« %(name)s » enregistré.", name=body.name), "success")
        return redirect(url_for("organisations.bodies", kind=kind))
    return screens.body_page(kind, form, body, status=422)


# --- the members of an OPCO or a support body ---------------------------------------------


@bp.post(f"/{KIND}/<public_id>/membres")
@login_required
def add_member(kind: str, public_id: str):
    """Make someone a member of an OPCO or a support body; a new account is invited."""
    body = load_organisation_or_404(public_id, kinds=(KINDS[kind],))
    form = MemberForm()
    if form.validate_on_submit() and (
        added := perform(form, members.add_member, body=body, **form.member())
    ):
        flash(members.added_message(body, *added), "success")
        return redirect(url_for(".edit_body", kind=kind, public_id=public_id, _anchor="membres"))
    page_form = body_form(body, posted=False)
    return screens.body_page(kind, page_form, body, member_form=form, status=422)


@bp.post(f"/{KIND}/<public_id>/membres/<member_id>/retrait")
@login_required
def remove_member(kind: str, public_id: str, member_id: str):
    """Take the body's role away from a member (her roles elsewhere stay)."""
    body, member = load_member_or_404(public_id, member_id, kinds=(KINDS[kind],))
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if perform(form, members.remove_member, body=body, user=member.user):
        flash(members.removed_message(body, member.user), "success")
    flash_refusal(form)
    return redirect(url_for(".edit_body", kind=kind, public_id=public_id, _anchor="membres"))


@bp.post(f"/{KIND}/<public_id>/membres/<member_id>/invitation")
@login_required
def reinvite_member(kind: str, public_id: str, member_id: str):
    """Send a member a new invitation (the previous link stops working)."""
    body, member = load_member_or_404(public_id, member_id, kinds=(KINDS[kind],))
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if perform(form, people.reinvite, user=member.user):
        flash(_("Invitation envoyée à %(email)s.", email=member.user.email), "success")
    flash_refusal(form)
    return redirect(url_for(".edit_body", kind=kind, public_id=public_id, _anchor="membres"))


# --- cohorts ------------------------------------------------------------------------------


@bp.get("/cohortes", endpoint="cohorts")
@login_required
def cohorts_list():
    """Cohorts, searchable by code or name, latest first, fifty a page."""
    _require()
    form, needle, page = screens.listing(request.args)
    lines, has_more = queries.cohorts(get_session(), needle, page=page, size=PAGE_SIZE)
    return render(
        "organisations/cohorts.html",
        partial="organisations/_cohorts.html",
        lines=lines,
        has_more=has_more,
        page=page,
        form=form,
    )


@bp.get("/cohortes/nouvelle")
@login_required
def new_cohort():
    """The form of a new cohort."""
    _require()
    return screens.cohort_page(cohort_form(get_session(), posted=False), None)


@bp.post("/cohortes/nouvelle")
@login_required
def create_cohort():
    """Create a cohort with its structures and consultants."""
    _require()
    form = cohort_form(get_session())
    if form.validate_on_submit() and (
        cohort := perform(form, cohorts.create_cohort, default="code", data=form.cohort_data())
    ):
        flash(_("Cohorte « %(name)s » créée.", name=cohort.name), "success")
        return redirect(url_for("organisations.cohorts"))
    return screens.cohort_page(form, None, 422)


@bp.get("/cohortes/<public_id>")
@login_required
def edit_cohort(public_id: str):
    """A cohort's form, filled in."""
    cohort = load_managed_cohort_or_404(public_id)
    return screens.cohort_page(cohort_form(get_session(), cohort, posted=False), cohort)


@bp.post("/cohortes/<public_id>")
@login_required
def update_cohort(public_id: str):
    """Save a cohort; structures leaving it take their drafts out of it (see moves)."""
    cohort = load_managed_cohort_or_404(public_id)
    form = cohort_form(get_session())
    if form.validate_on_submit() and perform(
        form, cohorts.update_cohort, default="code", cohort=cohort, data=form.cohort_data()
    ):
        flash(_("Cohorte « %(name)s » enregistrée.", name=cohort.name), "success")
        return redirect(url_for("organisations.cohorts"))
    return screens.cohort_page(form, cohort, 422)
