"""Administration of accounts: list, search, deactivate and reactivate."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from afest import policy
from afest.accounts import operations as accounts
from afest.accounts import queries as account_queries
from afest.accounts.forms import AccountSearchForm, ActiveForm
from afest.core.database import get_session
from afest.core.forms import EmptyForm
from afest.core.http import REFUSED, flash_refusal, perform, render
from afest.policy.loaders import load_user_or_404

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/comptes", endpoint="accounts")
@login_required
def accounts_list():
    """Accounts, searchable by name or e-mail, fifty a page."""
    if not policy.can_manage_accounts(current_user):
        abort(403)
    form = AccountSearchForm(request.args)
    listed = account_queries.accounts_page(get_session(), form.needle(), page=form.page.data)
    return render(
        "admin/accounts.html",
        partial="admin/_accounts.html",
        accounts=listed,
        form=form,
        action_form=EmptyForm(),
    )


@bp.post("/comptes/<public_id>/actif")
@login_required
def set_active(public_id: str):
    """Deactivate (ending every session of the account) or reactivate an account."""
    user = load_user_or_404(public_id, require=policy.can_deactivate)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    if perform(form, accounts.set_active, user=user, active=form.wanted()) is not REFUSED:
        flash(form.done(), "success")
    flash_refusal(form)
    return redirect(url_for("admin.accounts", q=request.args.get("q", "")))
