"""afest: work-situated training (AFEST) and VAE pathways for health and social care."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from afest.core.settings import ConfigError, load_settings

__all__ = ["ConfigError", "create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides the settings (tests); no schema work happens here:
    `alembic upgrade head` does it."""
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"))
    settings = load_settings(config)
    app.config.update(settings)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["ENV"] == "production",
        SESSION_COOKIE_NAME="afest_session",
        WTF_CSRF_TIME_LIMIT=None,  # the session's own timeouts bound the token's life
        BABEL_DEFAULT_LOCALE=settings["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE=settings["TIMEZONE"],
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        RATELIMIT_STORAGE_URI=settings["REDIS_URL"] or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
    )

    from afest import blueprints
    from afest.accounts import login
    from afest.cli import register_cli
    from afest.core import database, http
    from afest.dashboards import jobs as dashboards_jobs
    from afest.mail import jobs as mail_jobs
    from afest.todo import home as todo_home

    database.init_app(app)
    dashboards_jobs.init_app(app)
    mail_jobs.init_app(app)
    http.configure_extensions(app)
    login.configure_login(app)
    http.configure_security_headers(app)
    http.configure_templates(app)
    todo_home.init_app(app)
    http.configure_errors(app)
    if settings["TRUSTED_PROXIES"]:
        # the client's address, scheme and host as the trusted proxies saw them
        n = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    for blueprint in blueprints.ALL:
        app.register_blueprint(blueprint)
    register_cli(app)
    return app
