"""Login, logout, password change and the interface language."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from afest.accounts import operations as accounts
from afest.accounts.identity import Actor, UserView
from afest.accounts.login import client_user_agent
from afest.core.database import database, get_session
from afest.core.errors import ServiceError
from afest.core.extensions import limiter
from afest.core.forms import EmptyForm, LoginForm, PasswordChangeForm
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
        # The password check is slow on purpose: it runs before the write transaction opens.
        with database().session() as reader:
            user = accounts.authenticate(reader, email=form.email.data, password=form.password.data)
        if user is None:
            error = BAD_CREDENTIALS
        else:
            token = accounts.start_session(get_session(), user=user, user_agent=client_user_agent())
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
        accounts.end_session(get_session(), token=current_user.token)
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
            accounts.change_password(
                get_session(),
                user=get_session().get(User, current_user.id),
                current=form.current_password.data,
                new=form.new_password.data,
            )
        except ServiceError as exc:
            getattr(form, exc.field or "current_password").errors.append(exc.message)
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
        get_session().get(User, current_user.id).locale = code
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.home"))
