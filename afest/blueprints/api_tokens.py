"""The API tokens' page: administrators and OPCO advisers create a token for an organisation
(its secret shown once), list them and revoke them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.api import tokens
from afest.api.forms import TokenForm
from afest.core.database import get_session
from afest.core.forms import EmptyForm
from afest.core.http import perform, render

bp = Blueprint("api_tokens", __name__, url_prefix="/jetons-api")


def _organisations():
    if not policy.can_manage_api_tokens(current_user):
        abort(403)
    return tokens.organisations(get_session(), current_user)


def _page(form: TokenForm, *, secret: str | None = None, status: int = 200):
    return render(
        "api/tokens.html",
        form=form,
        secret=secret,
        lines=tokens.listed(get_session(), current_user),
        revoke_form=EmptyForm(),
        status=status,
    )


@bp.get("", endpoint="index")
@login_required
def index():
    """The tokens the actor manages, and the form that creates one."""
    form = TokenForm()
    form.setup(_organisations())
    return _page(form)


@bp.post("", endpoint="create")
@login_required
def create():
    """A new token: its secret is shown on this answer only."""
    organisations = _organisations()
    form = TokenForm()
    form.setup(organisations)
    organisation = form.chosen(organisations) if form.validate_on_submit() else None
    made = organisation and perform(
        form, tokens.create_token, default="name", organisation=organisation, name=form.name.data
    )
    if not made:
        return _page(form, status=422)
    blank = TokenForm(formdata=None)
    blank.setup(organisations)
    return _page(blank, secret=made[1], status=201)


@bp.post("/<public_id>/revoquer", endpoint="revoke")
@login_required
def revoke(public_id: str):
    """Revoke a token: its system is answered 401 from now on."""
    _organisations()
    token = tokens.find(get_session(), current_user, public_id)
    if token is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(EmptyForm(), tokens.revoke_token, token=token)
    flash(_("Le jeton « %(name)s » est révoqué.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"))
