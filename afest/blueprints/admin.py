"""Administration of accounts: list, search, deactivate and reactivate."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.accounts import operations as accounts
from afest.accounts import queries as account_queries
from afest.core.database import get_session, writing
from afest.core.errors import ServiceError
from afest.core.forms import EmptyForm, SearchForm
from afest.core.http import render
from afest.policy.loaders import load_user_or_404

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50


@bp.get("/comptes", endpoint="accounts")
@login_required
def accounts_list():
    """Accounts, searchable by name or e-mail, fifty a page."""
    if not policy.can_manage_accounts(current_user):
        abort(403)
    form = SearchForm(request.args)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    needle = form.q.data if form.validate() and form.q.data else ""
    users, has_more = account_queries.search(get_session(), needle, page=page, size=PAGE_SIZE)
    return render(
        "admin/accounts.html",
        partial="admin/_accounts.html",
        users=users,
        has_more=has_more,
        page=page,
        form=form,
        action_form=EmptyForm(),
    )


@bp.post("/comptes/<public_id>/actif")
@login_required
def set_active(public_id: str):
    """Deactivate (ending every session of the account) or reactivate an account."""
    user = load_user_or_404(public_id, require=policy.can_deactivate)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        with writing() as session:
            accounts.set_active(session, actor_id=current_user.id, user=user, active=active)
    except ServiceError as exc:
        flash(str(exc.message), "error")
    else:
        flash(
            _("Compte réactivé.") if active else _("Compte désactivé : ses sessions sont fermées."),
            "success",
        )
    return redirect(url_for("admin.accounts", q=request.args.get("q", "")))
