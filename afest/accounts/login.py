"""flask-login wiring: the cookie carries a session token resolved against the database;
signing in (with a password) and out, and where one lands after."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, current_app, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import update
from sqlmodel import select

from afest.accounts import links
from afest.accounts import operations as accounts
from afest.accounts.identity import Actor, Anonymous, UserView
from afest.core.database import database, get_session, writing
from afest.core.errors import ServiceError, form_error
from afest.core.extensions import login_manager
from afest.core.http import is_safe_next
from afest.models import User, UserSession, utcnow

TOUCH_EVERY = timedelta(seconds=60)
BAD_CREDENTIALS = _l("Adresse e-mail ou mot de passe incorrect.")


def session_limits() -> accounts.SessionLimits:
    return accounts.SessionLimits(
        idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
        absolute=timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]),
    )


def load_actor(token: str) -> Actor | None:
    """flask-login's user loader: a valid, unrevoked session of an active user, or nobody.
    Its last use is noted at most once a minute, in a short write of its own."""
    found = accounts.resolve_session(get_session(), token=token, limits=session_limits())
    if found is None:
        return None
    user, user_session, assignments = found
    now = utcnow()
    if now - user_session.last_seen_at > TOUCH_EVERY:
        with database().session(write=True) as writer:
            writer.exec(
                update(UserSession)
                .where(UserSession.id == user_session.id)
                .values(last_seen_at=now)
            )
            writer.commit()
    return Actor(user=user, token=token, assignments=assignments)


def confirms_own_password(form: Any, field: str = "password") -> bool:
    """Whether the password typed in `form`'s `field` is the signed-in user's own (a
    signature's confirmation); if not, says so beside the field. Views call it before their
    write: the check is slow on purpose, and on SQLite the write holds the database-wide
    write lock."""
    secret = form[field].data or ""
    stored = get_session().exec(select(User.password_hash).where(User.id == current_user.id))
    if secret and accounts.verify_secret(stored.one(), secret):
        return True
    form[field].errors = [*form[field].errors, _l("Mot de passe incorrect.")]
    return False


def sign_in(user: User) -> None:
    """Open a server-side session for `user` (its own short write) and put its token in a
    fresh cookie session."""
    with writing() as db:
        token = accounts.start_session(db, user=user, user_agent=client_user_agent())
    session.clear()
    login_user(Actor(user=UserView.of(user), token=token))


def sign_in_with_password(form: Any) -> bool:
    """Sign in with the e-mail and password of a valid LoginForm; when they match no active
    account, the form says so at its top, in the same words for an unknown address and a
    wrong password. Slow on purpose (argon2): checked before any write."""
    user = accounts.authenticate(get_session(), email=form.email.data, password=form.password.data)
    if user is None:
        form.form_errors.append(BAD_CREDENTIALS)
        return False
    sign_in(user)
    return True


def sign_in_with_link(form: Any, *, value: str, purpose: str) -> bool:
    """Use an invitation or reset link: keep the password (and PIN) of a valid
    ChooseSecretsForm, then sign in; a refusal is shown on the form, by default beside the
    password."""
    try:
        with writing() as db:
            user = links.use(db, value=value, purpose=purpose, **form.secrets())
    except ServiceError as exc:
        form_error(form, exc, default="password")
        return False
    sign_in(user)
    return True


def landing(target: str | None) -> str:
    """Where to go once signed in (or the language switched): `target` when it is a path of
    this site, else the home page."""
    return target if is_safe_next(target) else url_for("main.home")


def sign_out(token: str | None) -> None:
    """End this session on the server (when there is one), then forget the cookie."""
    if token:
        with writing() as db:
            accounts.end_session(db, token=token)
    logout_user()
    session.clear()


def configure_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says it already
    login_manager.anonymous_user = Anonymous
    login_manager.session_protection = None  # server-side sessions do this job
    login_manager.user_loader(load_actor)
    login_manager.init_app(app)


def client_user_agent() -> str:
    return (request.user_agent.string or "")[:300]
