"""The import of référentiels from France compétences' register, for who may import them: the
export is sent and kept, its fiches are chosen (search by number or title), previewed (new, or
a revision with its differences block by block) and confirmed, all or nothing. The form
answers 403 to anybody else; a file kept answers 404 to anybody but its sender."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from afest import policy
from afest.core.database import writing
from afest.core.forms import EmptyForm
from afest.core.http import render_error
from afest.policy.loaders import load_upload_or_404
from afest.referentials import register_screens as screens
from afest.referentials.forms import REGISTER_MAX_UPLOAD, RegisterFileForm

bp = Blueprint("referential_register", __name__, url_prefix="/referentiels/rncp")


@bp.before_request
def _room_for_the_export():
    """The register's export is larger than the app's other uploads."""
    if request.endpoint == "referential_register.upload":
        request.max_content_length = REGISTER_MAX_UPLOAD + 64 * 1024


@bp.errorhandler(413)
def _too_big(_exc):
    """A request larger than the export may be: said beside the file field."""
    if request.endpoint != "referential_register.upload":
        return render_error(413)
    return screens.upload_page(RegisterFileForm(formdata=None).too_big(), 413)


def _kept(public_id: str):
    return load_upload_or_404(
        public_id, purpose=screens.PURPOSE, require=policy.can_import_referentials
    )


@bp.get("")
@login_required
def form():
    """The form to send France compétences' CSV export (zip) or XML export."""
    if not policy.can_import_referentials(current_user):
        abort(403)
    return screens.upload_page(RegisterFileForm(formdata=None))


@bp.post("")
@login_required
def upload():
    """Keep a readable export and list its fiches; a bad file is answered beside the field."""
    if not policy.can_import_referentials(current_user):
        abort(403)
    form = RegisterFileForm()
    if form.validate_on_submit():
        with writing() as session:
            kept = screens.keep(session, owner_id=current_user.id, form=form)
        return redirect(url_for(".choose", public_id=kept.public_id), 303)
    return screens.upload_page(form, 422)


@bp.get("/<public_id>")
@login_required
def choose(public_id: str):
    """The fiches of the export kept, searched by number or title, to choose from."""
    return screens.choose_page(_kept(public_id), request.args)


@bp.get("/<public_id>/apercu")
@login_required
def preview(public_id: str):
    """What importing the fiches chosen does: new, revision (with its differences), same."""
    return screens.preview_page(_kept(public_id), request.args)


@bp.post("/<public_id>/apercu")
@login_required
def confirm(public_id: str):
    """Import the fiches chosen whole, or nothing and every problem said."""
    kept = _kept(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    imported, refused = screens.confirm(kept, current_user.id, request.form)
    if refused is not None:
        return refused
    flash(screens.imported_message(imported), "success")
    return redirect(url_for("referentials.index"), 303)
