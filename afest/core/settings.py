"""Typed settings: defaults from config/default.toml, then AFEST_CONFIG, then AFEST_* env vars.

Every value is checked against its declared type here, so that a malformed value stops the
app with one clear sentence instead of a traceback somewhere later.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
DEFAULT_SECRET = "dev-insecure-change-me"  # noqa: S105 (the placeholder refused in production)
ENVIRONMENTS = ("development", "production", "testing")
LOCALES = ("fr", "en")


class ConfigError(click.ClickException):
    """A setting is missing or malformed; the message says which and why.

    A ClickException, so that `flask ...` commands print it as one line instead of a
    traceback when the app factory refuses the settings.
    """

    def __init__(self, message: str):
        super().__init__(f"Invalid configuration: {message}")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a whole number, not {value!r}.")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None
    if number <= 0:
        raise ConfigError(f"{name} must be greater than 0, not {number}.")
    return number


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number of seconds, not {value!r}.")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {value!r}.") from None
    if not 0 <= number <= 3600:
        raise ConfigError(f"{name} must be between 0 and 3600 seconds, not {number:g}.")
    return number


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be text, not {value!r}.")
    return value.strip()


def _choice(options: tuple[str, ...]):
    def check(name: str, value: Any) -> str:
        text = _text(name, value)
        if text not in options:
            raise ConfigError(f"{name} must be one of {', '.join(options)}, not {text!r}.")
        return text

    return check


def _rate_limit(name: str, value: Any) -> str:
    from limits import parse_many

    text = _text(name, value)
    try:
        parse_many(text)
    except ValueError:
        raise ConfigError(f"{name} must look like '10 per minute', not {text!r}.") from None
    return text


def _database_url(name: str, value: Any) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = _text(name, value)
    try:
        url = make_url(text)
    except ArgumentError:
        raise ConfigError(f"{name} is not a database URL: {text!r}.") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"{name} must be an SQLite or PostgreSQL URL, not {text!r}.")
    return text


SCHEMA = {
    "ENV": _choice(ENVIRONMENTS),
    "SECRET_KEY": _text,
    "DATABASE_URL": _database_url,
    "REDIS_URL": _text,
    "LOGIN_RATE_LIMIT": _rate_limit,
    "SESSION_IDLE_MINUTES": _positive_int,
    "SESSION_ABSOLUTE_HOURS": _positive_int,
    "REFLECTION_MAX_DAYS": _positive_int,
    "CYCLE_MIN_MINUTES": _positive_int,
    "SMALL_CELL_K": _positive_int,
    "ROLLUP_SETTLE_SECONDS": _seconds,
    "RETENTION_SESSION_DAYS": _positive_int,
    "RETENTION_PROOF_YEARS": _positive_int,
    "RETENTION_ACCOUNT_YEARS": _positive_int,
    "DEFAULT_LOCALE": _choice(LOCALES),
    "TIMEZONE": _text,
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"Configuration file not found: {path}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Configuration file {path} is not valid TOML: {exc}.") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Merge defaults, the AFEST_CONFIG file, AFEST_* variables and overrides, then check them."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = _read_toml(CONFIG_DIR / "default.toml")
    if environ.get("AFEST_CONFIG"):
        raw.update(_read_toml(Path(environ["AFEST_CONFIG"])))
    for key in SCHEMA:
        if f"AFEST_{key}" in environ:
            raw[key] = environ[f"AFEST_{key}"]
    raw.update(overrides or {})

    unknown = sorted(set(raw) - set(SCHEMA) - {"TESTING", "WTF_CSRF_ENABLED", "RATELIMIT_ENABLED"})
    if unknown:
        raise ConfigError(f"Unknown setting(s): {', '.join(unknown)}.")
    settings = {key: check(key, raw[key]) for key, check in SCHEMA.items()}
    for key in ("TESTING", "WTF_CSRF_ENABLED", "RATELIMIT_ENABLED"):
        if key in raw:
            settings[key] = bool(raw[key])

    weak_secret = settings["SECRET_KEY"] == DEFAULT_SECRET or len(settings["SECRET_KEY"]) < 32
    if settings["ENV"] == "production" and weak_secret:
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least 32 characters in "
            "production (AFEST_SECRET_KEY)."
        )
    _check_timezone(settings["TIMEZONE"])
    return settings


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The database URL alone, merged as load_settings merges it (for config/gunicorn.conf.py,
    which sizes the workers by engine before the app exists)."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = _read_toml(CONFIG_DIR / "default.toml")
    if environ.get("AFEST_CONFIG"):
        raw.update(_read_toml(Path(environ["AFEST_CONFIG"])))
    return _database_url("DATABASE_URL", environ.get("AFEST_DATABASE_URL", raw["DATABASE_URL"]))


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TIMEZONE is not a known time zone: {name!r}.") from None
