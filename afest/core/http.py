"""HTTP plumbing shared by every blueprint: extensions, headers, templates, errors, rendering."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from babel import numbers
from flask import (
    Flask,
    current_app,
    flash,
    has_request_context,
    make_response,
    render_template,
    request,
    session,
)
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from afest.core import problems
from afest.core.database import writing
from afest.core.errors import ServiceError, form_error
from afest.core.extensions import babel, csrf, htmx, limiter
from afest.models import ProtocolStatus, Role, SignerRole

ROLE_LABELS = {
    Role.LEARNER: _l("Apprenant·e"),
    Role.TUTOR: _l("Tuteur·rice"),
    Role.MANAGER: _l("Responsable de structure"),
    Role.OPCO: _l("Conseiller·ère OPCO"),
    Role.CONSULTANT: _l("Consultant·e"),
    Role.ADMIN: _l("Administrateur·rice"),
}

STATUS_LABELS = {
    ProtocolStatus.DRAFT: _l("Brouillon"),
    ProtocolStatus.AWAITING_SIGNATURES: _l("En attente de signatures"),
    ProtocolStatus.IN_PROGRESS: _l("En cours"),
    ProtocolStatus.COMPLETED: _l("Terminé"),
    ProtocolStatus.STOPPED: _l("Arrêté"),
}

SIGNER_LABELS = {
    SignerRole.LEARNER: _l("Apprenant·e"),
    SignerRole.TUTOR: _l("Tuteur·rice"),
    SignerRole.STRUCTURE: _l("Structure"),
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)


def select_locale() -> str:
    """The user's choice, else the session's, else the default (French); CLI: the default."""
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    if getattr(current_user, "is_authenticated", False) and current_user.user.locale:
        return current_user.user.locale
    return session.get("lang") or current_app.config["DEFAULT_LOCALE"]


def configure_extensions(app: Flask) -> None:
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)


def configure_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["ENV"] == "production":
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def css_string(value: Any) -> Markup:
    """A value as a quoted CSS string, for `content:` in a print stylesheet: inside <style>
    HTML escapes are not decoded (an apostrophe would print as "&#39;"), so the value is
    escaped the CSS way instead, and "<" too so that it cannot close the style element."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("<", "\\3C ")):
        text = text.replace(raw, escaped)
    return Markup(f'"{text}"')  # noqa: S704 (escaped above, the CSS way)


def configure_templates(app: Flask) -> None:
    app.jinja_env.filters["date"] = lambda d, fmt="medium": format_date(d, fmt) if d else ""
    app.jinja_env.filters["datetime"] = lambda d, fmt="short": format_datetime(d, fmt) if d else ""
    app.jinja_env.filters["hours"] = _hours_filter
    app.jinja_env.filters["count"] = _count_filter
    # the reader's thousands separator, looked up once a page rather than once a figure
    app.context_processor(lambda: {"number_group": grouping()})
    app.jinja_env.filters["filesize"] = format_size
    app.jinja_env.filters["css_string"] = css_string
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        ROLE_LABELS=ROLE_LABELS, STATUS_LABELS=STATUS_LABELS, SIGNER_LABELS=SIGNER_LABELS
    )
    app.jinja_env.globals["Role"] = Role
    app.jinja_env.globals["get_locale"] = get_locale


@cache
def _group_symbol(locale: str) -> str:
    return numbers.get_group_symbol(locale)


def grouping() -> str:
    """The reader's thousands separator: a narrow no-break space in French, a comma in
    English (templates look it up once a page: `number_group`)."""
    locale = get_locale()
    return _group_symbol(str(locale) if locale else "fr")


def format_count(value: int | None, sep: str | None = None) -> str:
    """A count as its reader writes it: "22 098" in French, "22,098" in English."""
    text = f"{int(value or 0):,}"
    return text.replace(",", grouping() if sep is None else sep) if "," in text else text


@pass_context
def _count_filter(context, value: int | None) -> str:
    return format_count(value, context.get("number_group"))


@pass_context
def _hours_filter(context, minutes: int | None) -> str:
    return format_minutes(minutes, context.get("number_group"))


def format_minutes(minutes: int | None, sep: str | None = None) -> str:
    """Minutes as hours: "12 h", "1 h 05", "1 284 645 h" (grouped as format_count)."""
    hours, rest = divmod(int(minutes or 0), 60)
    text = format_count(hours, sep) if hours >= 1000 else str(hours)
    return f"{text} h {rest:02d}" if rest else f"{text} h"


# The public verification pages (a proof pack, a badge): no account, so each client is
# limited, all those pages together (VERIFY_RATE_LIMIT).
verification_limit = limiter.shared_limit(
    lambda: current_app.config["VERIFY_RATE_LIMIT"],
    scope="verification",
    key_func=lambda: f"verify:{get_remote_address()}",
    error_message=lambda: _("Trop de vérifications depuis votre poste : patientez une minute."),
)


def format_size(size: int) -> str:
    """A file's size as French readers write it: "412 ko", "3,2 Mo"."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} ko"
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def render(template: str, *, partial: str | None = None, status: int = 200, **context: Any):
    """Render the full page, or only `partial` when htmx asks for it; the answer varies on it."""
    name = partial if (partial and htmx and not htmx.boosted) else template
    response = make_response(render_template(name, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths are followed after login."""
    if not target:
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    )


ERROR_TEXTS = {
    400: (_l("Requête invalide"), _l("La demande n'a pas pu être comprise.")),
    403: (_l("Accès refusé"), _l("Vous n'avez pas le droit de faire cette action.")),
    404: (_l("Page introuvable"), _l("Cette page n'existe pas ou ne vous est pas accessible.")),
    405: (_l("Méthode non permise"), _l("Cette adresse ne s'utilise pas ainsi.")),
    413: (_l("Envoi trop volumineux"), _l("Le contenu envoyé dépasse la taille permise.")),
    429: (_l("Trop de tentatives"), _l("Patientez une minute avant de réessayer.")),
    500: (_l("Erreur du serveur"), _l("Un problème est survenu ; rien n'a été enregistré.")),
}


def render_error(code: int, detail: str | None = None):
    title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


def configure_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return render_error(400, _l("Le formulaire a expiré. Rechargez la page et recommencez."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if problems.is_api_path(request.path):  # the JSON API answers problem details
            return problems.problem(exc.code, getattr(exc, "api_detail", None))
        if isinstance(exc, RateLimitExceeded) and exc.limit.error_message:
            return render_error(429, exc.description)  # the limit says what was refused
        return render_error(exc.code if exc.code in ERROR_TEXTS else 500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if problems.is_api_path(request.path):
            return problems.problem(500)
        return render_error(500)


def flash_refusal(form: Any) -> None:
    """A one-button form has no page of its own to show a refusal on: say it in a flash
    message on the page it goes back to."""
    for messages in form.errors.values():  # the form's own errors under None
        for message in messages:
            flash(str(message), "error")


class _Refused:
    """What `perform` answers for an operation a rule refused."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "REFUSED"


REFUSED = _Refused()


def perform(
    form: Any,
    operation: Callable[..., Any],
    /,
    *,
    default: str | None = None,
    aliases: Mapping[str, str] = {},  # noqa: B006 - read only
    **arguments: Any,
) -> Any:
    """Run one operation for the signed-in actor inside the request's write scope,
    `operation(session, actor_id=current_user.id, **arguments)`, and answer what it returned;
    a refusal (ServiceError) is shown on `form`, beside its field or `default`, and answers
    REFUSED, with nothing kept of it."""
    try:
        with writing() as session:
            return operation(session, actor_id=current_user.id, **arguments)
    except ServiceError as exc:
        form_error(form, exc, default=default, aliases=aliases)
        return REFUSED
