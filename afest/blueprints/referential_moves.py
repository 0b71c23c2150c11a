"""Moving a draft protocol to the newest version of its référentiel: what is carried, what is
dropped, what stops it, shown first; then done in one write, audited. For the structure's
managers, on a draft (a signed protocol stays on its version: see
afest.protocols.referential_move)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required

from afest import policy
from afest.core.database import get_session
from afest.core.forms import EmptyForm
from afest.core.http import REFUSED, perform, render
from afest.models import Referential
from afest.policy.loaders import load_protocol_or_404
from afest.protocols import referential_move
from afest.referentials import queries

bp = Blueprint("referential_moves", __name__, url_prefix="/protocoles")


def _page(protocol, form: EmptyForm, status: int = 200):
    db = get_session()
    target = queries.newer_version(db, db.get(Referential, protocol.referential_id))
    if target is None:
        abort(404)
    move = referential_move.plan_move(db, protocol, target)
    return render("protocols/referential_move.html", move=move, form=form, status=status)


@bp.get("/<public_id>/version-referentiel")
@login_required
def preview(public_id: str):
    """What moving the draft to the newest version of its référentiel carries and drops."""
    protocol = load_protocol_or_404(public_id, require=policy.can_edit_draft)
    return _page(protocol, EmptyForm(formdata=None))


@bp.post("/<public_id>/version-referentiel")
@login_required
def move(public_id: str):
    """Move the draft, or say on the page why not (nothing written)."""
    protocol = load_protocol_or_404(public_id, require=policy.can_edit_draft)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    target = queries.newer_version(get_session(), protocol.referential)
    if target is None:
        abort(404)
    done = perform(form, referential_move.move_protocol, protocol=protocol, target=target)
    if done is REFUSED:
        return _page(protocol, form, 422)
    flash(_("Le protocole vise désormais la version %(v)s.", v=target.version), "success")
    return redirect(url_for("protocols.show", public_id=public_id), 303)
