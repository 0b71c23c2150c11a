"""Signing in and out, passwords (changed, forgotten, chosen from an e-mailed link), the
tablet PIN and the interface language."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from afest import policy
from afest.accounts import links, throttle
from afest.accounts import operations as accounts
from afest.accounts.forms import (
    ChooseSecretsForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordChangeForm,
    PinChangeForm,
)
from afest.accounts.login import landing, sign_in_with_link, sign_in_with_password, sign_out
from afest.core.database import get_session, writing
from afest.core.forms import EmptyForm
from afest.core.http import perform, render
from afest.core.settings import LOCALES

bp = Blueprint("auth", __name__)


def _status(form) -> int:
    return 422 if form.errors else 200


@bp.route("/connexion", methods=["GET", "POST"])
@throttle.login_limits
def login():
    """Sign in with e-mail and password; the same answer for an unknown e-mail or a bad password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit() and sign_in_with_password(form):
        return redirect(landing(request.args.get("next")))
    return render("auth/login.html", form=form, status=_status(form))


@bp.post("/deconnexion")
@login_required
def logout():
    """End this session on the server, then forget the cookie."""
    sign_out(current_user.token if EmptyForm().validate_on_submit() else None)
    return redirect(url_for("auth.login"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@throttle.link_limits
def forgot_password():
    """Ask for a reset link; the same answer whether the address has an account or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        with writing() as db:
            links.request_reset(db, email=form.email.data)
        return render("auth/forgot_sent.html", email=form.email.data)
    return render("auth/forgot.html", form=form, status=_status(form))


def _follow(value: str, purpose: str, template: str):
    """The page of a link: choose the password (and PIN), then be signed in."""
    try:
        link = links.resolve(get_session(), value=value, purpose=purpose)
    except links.LinkRefused as refused:
        return render("auth/link_refused.html", refused=refused, status=410)
    if current_user.is_authenticated:  # the link opens another session: this one ends
        sign_out(current_user.token)
    form = ChooseSecretsForm() if link.wants_pin else ChooseSecretsForm().without_pin()
    if form.validate_on_submit() and sign_in_with_link(form, value=value, purpose=purpose):
        flash(_("Votre mot de passe est enregistré : vous êtes connecté·e."), "success")
        return redirect(url_for("main.home"))
    return render(template, form=form, user=link.user, status=_status(form))


@bp.route("/invitation/<value>", methods=["GET", "POST"])
def accept_invitation(value: str):
    """Follow an invitation: choose a password (and a tutor her tablet PIN)."""
    return _follow(value, links.INVITATION, "auth/invitation.html")


@bp.route("/mot-de-passe/nouveau/<value>", methods=["GET", "POST"])
def reset_password(value: str):
    """Follow a reset link: choose a new password; every other session ends."""
    return _follow(value, links.RESET, "auth/reset.html")


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; every session of the account ends, this one included."""
    form = PasswordChangeForm()
    if form.validate_on_submit() and perform(
        form, accounts.change_password, default="current_password", **form.passwords()
    ):
        sign_out(None)
        return redirect(url_for("auth.login", changed=1))
    return render("auth/password.html", form=form, status=_status(form))


@bp.route("/compte/code-tablette", methods=["GET", "POST"])
@login_required
def change_pin():
    """A tutor chooses a new tablet PIN, confirming with her password."""
    if not policy.can_choose_pin(current_user):
        abort(403)
    form = PinChangeForm()
    if form.validate_on_submit() and perform(
        form, links.change_pin, password=form.password.data, pin=form.pin.data
    ):
        flash(_("Code de tablette changé."), "success")
        return redirect(url_for("main.home"))
    return render("auth/pin.html", form=form, status=_status(form))


@bp.post("/langue/<code>")
def set_language(code: str):
    """Switch the interface language (French by default, English)."""
    if code not in LOCALES or not EmptyForm().validate_on_submit():
        abort(400)
    session["lang"] = code
    if current_user.is_authenticated:
        with writing() as db:
            accounts.set_locale(db, user_id=current_user.id, locale=code)
    return redirect(landing(request.form.get("next")))
