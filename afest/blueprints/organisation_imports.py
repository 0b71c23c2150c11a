"""The import of structures from a spreadsheet, for the administrator: the file is sent,
kept and shown row by row, then confirmed and saved whole. The form answers 403 to anybody
else; a file kept answers 404 to anybody but its sender."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from afest import policy
from afest.core import uploads
from afest.core.database import writing
from afest.core.forms import EmptyForm
from afest.core.http import render_error
from afest.core.importing import Rejected
from afest.core.tabular import TabularError
from afest.organisations import imports, screens
from afest.organisations.forms import ImportForm
from afest.policy.loaders import load_upload_or_404

bp = Blueprint("organisation_imports", __name__, url_prefix="/admin/structures/import")


@bp.errorhandler(413)
def _too_big(_exc):
    """A request larger than the app takes: said beside the file field, as any bad file."""
    if request.endpoint != "organisation_imports.upload_import":
        return render_error(413)
    return screens.too_big_page()


@bp.get("")
@login_required
def import_form():
    """The form to send a file of structures."""
    if not policy.can_manage_organisations(current_user):
        abort(403)
    return screens.import_page(ImportForm(formdata=None))


@bp.post("")
@login_required
def upload_import():
    """Keep a readable file and show its preview; a bad file is answered beside the field."""
    if not policy.can_manage_organisations(current_user):
        abort(403)
    form = ImportForm()
    if form.validate_on_submit():
        with writing() as session:
            upload = uploads.keep(
                session, owner_id=current_user.id, purpose=imports.PURPOSE, **form.upload()
            )
        return redirect(url_for(".preview_import", public_id=upload.public_id), 303)
    return screens.import_page(form, 422)


@bp.get("/<public_id>")
@login_required
def preview_import(public_id: str):
    """Every row of the file sent, with what importing it does or its problems."""
    upload = load_upload_or_404(
        public_id, purpose=imports.PURPOSE, require=policy.can_manage_organisations
    )
    return screens.preview_page(upload)


@bp.post("/<public_id>")
@login_required
def confirm_import(public_id: str):
    """Save every row of the file previewed in one write, or nothing if a row has a problem
    now (the rows are judged again: the database may have changed since the preview)."""
    upload = load_upload_or_404(
        public_id, purpose=imports.PURPOSE, require=policy.can_manage_organisations
    )
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        with writing() as session:
            judged = imports.import_upload(session, actor_id=current_user.id, upload=upload)
    except (TabularError, Rejected) as refused:
        return screens.preview_page(upload, refused=refused)
    flash(screens.imported_message(judged.counts), "success")
    return redirect(url_for("organisations.structures"))
