"""Throttling of sign-in and of the "forgotten password" form (Flask-Limiter).

Wrong passwords are counted per account (the address typed) and per client address: a
storm of guesses on one account stops that account's sign-ins for a while, not everybody's;
a successful sign-in counts nothing. Behind a reverse proxy the client address is the real
one (TRUSTED_PROXIES, through Werkzeug's ProxyFix in create_app). With REDIS_URL set the
counts live in Redis, shared by every worker; otherwise each process counts apart.
"""

from __future__ import annotations

from flask import Response, current_app, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from afest.accounts.operations import normalise_email
from afest.core.extensions import limiter

REFUSED_STATUS = 422  # a form answered with an error: a wrong password, a bad address


def _typed_address() -> str:
    return normalise_email(request.form.get("email", ""))[:254]


def _account_key() -> str:
    return f"account:{_typed_address()}"


def _client_key() -> str:
    return f"client:{get_remote_address()}"


def _failed(response: Response) -> bool:
    return response.status_code == REFUSED_STATUS


def _setting(key: str):
    return lambda: current_app.config[key]


LOGIN_TOO_MANY = _l(
    "Trop de tentatives pour ce compte ou depuis votre adresse : patientez quelques minutes "
    "avant de réessayer. Si vous avez oublié votre mot de passe, demandez un nouveau lien."
)
LINK_TOO_MANY = _l(
    "Trop de demandes pour cette adresse ou depuis votre poste : patientez avant de "
    "redemander un lien. Le dernier courriel envoyé reste valable."
)


def _message(text):
    return lambda: str(text)


def login_limits(view):
    """Wrong passwords per account and per client address, on POST only."""
    for key, setting in (
        (_account_key, "LOGIN_RATE_LIMIT"),
        (_client_key, "LOGIN_RATE_LIMIT_CLIENT"),
    ):
        view = limiter.limit(
            _setting(setting),
            key_func=key,
            methods=["POST"],
            deduct_when=_failed,
            error_message=_message(LOGIN_TOO_MANY),
        )(view)
    return view


def link_limits(view):
    """Reset links asked for, per address asked and per client address, on POST only."""
    for key in (_account_key, _client_key):
        view = limiter.limit(
            _setting("LINK_RATE_LIMIT"),
            key_func=key,
            methods=["POST"],
            error_message=_message(LINK_TOO_MANY),
        )(view)
    return view
