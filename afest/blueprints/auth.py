"""Login, logout, password change and the interface language."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from afest.accounts import operations as accounts
from afest.accounts.forms import LoginForm, PasswordChangeForm
from afest.accounts.identity import Actor, UserView
from afest.accounts.login import client_user_agent
from afest.core.database import get_session, writing
from afest.core.errors import ServiceError, form_error
from afest.core.extensions import limiter
from afest.core.forms import EmptyForm
from afest.core.http import is_safe_next, render
from afest.core.settings import LOCALES
from afest.models import User

bp = Blueprint("auth", __name__)

BAD_CREDENTIALS = _l("Adresse e-mail ou mot de passe incorrect.")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Sign in with e-mail and password; the same answer for an unknown e-mail or a bad password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        # slow on purpose (argon2): checked before the write, which holds SQLite's lock
        user = accounts.authenticate(
            get_session(), email=form.email.data, password=form.password.data
        )
        if user is None:
            error = BAD_CREDENTIALS
        else:
            with writing() as db:
                token = accounts.start_session(db, user=user, user_agent=client_user_agent())
            session.clear()
            login_user(Actor(user=UserView.of(user), token=token))
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("main.home"))
    return render(
        "auth/login.html",
        form=form,
        error=error,
        status=200 if not form.errors and not error else 422,
    )


@bp.post("/deconnexion")
@login_required
def logout():
    """End this session on the server, then forget the cookie."""
    if EmptyForm().validate_on_submit():
        with writing() as db:
            accounts.end_session(db, token=current_user.token)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; every session of the account ends, this one included."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            with writing() as db:
                accounts.change_password(
                    db,
                    user=db.get(User, current_user.id),
                    current=form.current_password.data,
                    new=form.new_password.data,
                )
        except ServiceError as exc:
            form_error(form, exc, default="current_password")
        else:
            logout_user()
            session.clear()
            return redirect(url_for("auth.login", changed=1))
    return render("auth/password.html", form=form, status=422 if form.errors else 200)


@bp.post("/langue/<code>")
def set_language(code: str):
    """Switch the interface language (French by default, English)."""
    if code not in LOCALES or not EmptyForm().validate_on_submit():
        abort(400)
    session["lang"] = code
    if current_user.is_authenticated:
        with writing() as db:
            accounts.set_locale(db, user_id=current_user.id, locale=code)
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.home"))
