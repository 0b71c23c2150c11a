"""Typed settings: defaults from config/default.toml, then AFEST_CONFIG, then AFEST_* env vars.

A pydantic-settings model declares every key with its type and bounds, and reads them from
these sources, highest first: the `overrides` a caller passes (tests), AFEST_<KEY> environment
variables, the TOML file named in AFEST_CONFIG, config/default.toml. A malformed value stops
the app with one clear sentence naming the key instead of a traceback somewhere later.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import click
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
DEFAULT_SECRET = "dev-insecure-change-me"  # noqa: S105 (the placeholder refused in production)
ENVIRONMENTS = ("development", "production", "testing")
LOCALES = ("fr", "en")
MAX_SECONDS = 3600
# Accepted from overrides and configuration files only: no environment variable turns off
# CSRF checks or rate limits.
OVERRIDE_ONLY = ("TESTING", "WTF_CSRF_ENABLED", "RATELIMIT_ENABLED")

# The environment the sources read: os.environ, or the mapping a test passes to load_settings.
_ENVIRON: ContextVar[Mapping[str, str]] = ContextVar("afest_settings_environ")


class ConfigError(click.ClickException):
    """A setting is missing or malformed; the message says which and why.

    A ClickException, so that `flask ...` commands print it as one line instead of a
    traceback when the app factory refuses the settings.
    """

    def __init__(self, message: str):
        super().__init__(f"Invalid configuration: {message}")


def _no_bool(kind: str):
    """TOML's true/false is no number (pydantic would read it as 1/0)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError(kind, "not a number")
        return value

    return check


def _rate_limit(text: str) -> str:
    from limits import parse_many

    try:
        parse_many(text)
    except ValueError:
        raise ValueError(f"must look like '10 per minute', not {text!r}") from None
    return text


def _database_url(text: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError(f"is not a database URL: {text!r}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"must be an SQLite or PostgreSQL URL, not {text!r}")
    return text


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"is not a known time zone: {name!r}") from None
    return name


def _base_url(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"must be an address such as https://afest.example.org, not {text!r}")
    return text.rstrip("/")


def _mail_sender(text: str) -> str:
    from email.headerregistry import Address
    from email.utils import parseaddr

    name, address = parseaddr(text)
    try:
        Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        address = ""
    if "@" not in address:
        raise ValueError(f"must be like 'afest <no-reply@example.org>', not {text!r}")
    return text


Count = Annotated[int, BeforeValidator(_no_bool("int_type")), Field(gt=0)]
Proxies = Annotated[int, BeforeValidator(_no_bool("int_type")), Field(ge=0, le=5)]
Percent = Annotated[int, BeforeValidator(_no_bool("int_type")), Field(ge=0, le=1000)]
Seconds = Annotated[
    float, BeforeValidator(_no_bool("float_type")), Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)
]
DatabaseUrl = Annotated[str, AfterValidator(_database_url)]
RateLimit = Annotated[str, AfterValidator(_rate_limit)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
BaseUrl = Annotated[str, AfterValidator(_base_url)]
MailSender = Annotated[str, AfterValidator(_mail_sender)]
Port = Annotated[int, BeforeValidator(_no_bool("int_type")), Field(gt=0, le=65535)]
Timeout = Annotated[
    float, BeforeValidator(_no_bool("float_type")), Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)
]


class _Environment(EnvSettingsSource):
    """AFEST_<KEY> variables, read from the given mapping rather than always os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        hidden = {f"{self.env_prefix}{key}" for key in OVERRIDE_ONLY}
        return {name: value for name, value in self._environ.items() if name not in hidden}


class _TomlFile(TomlConfigSettingsSource):
    """One TOML file, which must exist and parse: a file named but missing is an error."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path):
        if not path.is_file():
            raise ConfigError(f"Configuration file not found: {path}.")
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Path) -> dict[str, Any]:
        try:
            return super()._read_file(file_path)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Configuration file {file_path} is not valid TOML: {exc}.") from None


class _Sourced(BaseSettings):
    """Where values come from, highest first: overrides, AFEST_* variables, the AFEST_CONFIG
    file, config/default.toml (which holds every default: no default is repeated here)."""

    model_config = SettingsConfigDict(env_prefix="AFEST_", case_sensitive=True, extra="forbid")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _ENVIRON.get(os.environ)
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            _Environment(settings_cls, environ),
        ]
        if environ.get("AFEST_CONFIG"):
            sources.append(_TomlFile(settings_cls, Path(environ["AFEST_CONFIG"])))
        sources.append(_TomlFile(settings_cls, CONFIG_DIR / "default.toml"))
        return tuple(sources)

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class Settings(_Sourced):
    ENV: Literal[ENVIRONMENTS]
    SECRET_KEY: str
    DATABASE_URL: DatabaseUrl
    REDIS_URL: str
    LOGIN_RATE_LIMIT: RateLimit
    LOGIN_RATE_LIMIT_CLIENT: RateLimit
    LINK_RATE_LIMIT: RateLimit
    TRUSTED_PROXIES: Proxies
    INVITATION_DAYS: Count
    RESET_MINUTES: Count
    SESSION_IDLE_MINUTES: Count
    SESSION_ABSOLUTE_HOURS: Count
    REFLECTION_MAX_DAYS: Count
    CYCLE_MIN_MINUTES: Count
    HOURS_MARGIN_PERCENT: Percent
    VAE_STUCK_DAYS: Count
    SMALL_CELL_K: Count
    ROLLUP_SETTLE_SECONDS: Seconds
    ROLLUP_READ_WAIT_SECONDS: Seconds
    RETENTION_SESSION_DAYS: Count
    RETENTION_PROOF_YEARS: Count
    RETENTION_ACCOUNT_YEARS: Count
    DEFAULT_LOCALE: Literal[LOCALES]
    TIMEZONE: TimeZone
    PUBLIC_BASE_URL: BaseUrl
    SMTP_HOST: str
    SMTP_PORT: Port
    SMTP_TLS: Literal["starttls", "ssl", "none"]
    SMTP_USER: str
    SMTP_PASSWORD: str
    SMTP_TIMEOUT: Timeout
    MAIL_SENDER: MailSender
    MAIL_MAX_ATTEMPTS: Count
    RETENTION_MAIL_DAYS: Count
    AUDIT_CHECKPOINT_DIR: str
    AUDIT_CHECKPOINT_KEY: str
    SEAL_CERT: str
    SEAL_KEY: str
    SEAL_KEY_PASSWORD: str
    SEAL_DIR: str
    CLAIMS_DIR: str
    ATTACHMENTS_URL: str
    VERIFY_RATE_LIMIT: RateLimit
    API_RATE_LIMIT: RateLimit

    TESTING: bool | None = None
    WTF_CSRF_ENABLED: bool | None = None
    RATELIMIT_ENABLED: bool | None = None

    @model_validator(mode="after")
    def _strong_secret_in_production(self) -> Settings:
        weak = self.SECRET_KEY == DEFAULT_SECRET or len(self.SECRET_KEY) < 32
        if self.ENV == "production" and weak:
            raise ValueError(
                "SECRET_KEY must be set to a random value of at least 32 characters in "
                "production (AFEST_SECRET_KEY)."
            )
        return self


class _DatabaseOnly(_Sourced):
    """The database URL alone, from the same sources; the other keys are not checked."""

    model_config = SettingsConfigDict(extra="ignore")

    DATABASE_URL: DatabaseUrl


def _sentence(model: type[BaseSettings], exc: ValidationError) -> str:
    """The first error as one sentence naming the key (every unknown key, when there are)."""
    errors = exc.errors(include_url=False)
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return f"Unknown setting(s): {', '.join(unknown)}."
    error = errors[0]
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    if not error["loc"]:  # the model's own check, already a sentence
        return str(ctx.get("error", error["msg"]))
    key = str(error["loc"][0])
    if kind in ("value_error", "assertion_error"):
        return f"{key} {ctx['error']}."
    if kind == "missing":
        return f"{key} is not set."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{key} must be a whole number, not {value!r}."
    if key == "TRUSTED_PROXIES" and kind in ("greater_than_equal", "less_than_equal"):
        return f"{key} must be between 0 and 5, not {value}."
    if kind == "greater_than":
        return f"{key} must be greater than {ctx['gt']}, not {value}."
    if kind in ("float_type", "float_parsing"):
        return f"{key} must be a number of seconds, not {value!r}."
    if kind in ("greater_than_equal", "less_than_equal", "finite_number"):
        shown = f"{value:g}" if isinstance(value, float) and math.isfinite(value) else value
        return f"{key} must be between 0 and {MAX_SECONDS} seconds, not {shown}."
    if kind == "literal_error":
        choices = get_args(model.model_fields[key].annotation)
        return f"{key} must be one of {', '.join(choices)}, not {value!r}."
    if kind == "string_type":
        return f"{key} must be text, not {value!r}."
    if kind in ("bool_type", "bool_parsing"):
        return f"{key} must be true or false, not {value!r}."
    return f"{key} is malformed ({error['msg']}), not {value!r}."


def _load(
    model: type[BaseSettings], overrides: Mapping[str, Any], environ: Mapping[str, str] | None
) -> BaseSettings:
    token = _ENVIRON.set(os.environ if environ is None else environ)
    try:
        return model(**overrides)
    except ValidationError as exc:
        raise ConfigError(_sentence(model, exc)) from None
    finally:
        _ENVIRON.reset(token)


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Merge defaults, the AFEST_CONFIG file, AFEST_* variables and overrides, then check them.

    `environ` stands for os.environ (tests pass their own)."""
    settings = _load(Settings, dict(overrides or {}), environ).model_dump()
    for key in OVERRIDE_ONLY:
        if settings[key] is None:
            del settings[key]
    return settings


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The database URL alone, merged as load_settings merges it (for config/gunicorn.conf.py,
    which sizes the workers by engine before the app exists)."""
    return _load(_DatabaseOnly, {}, environ).DATABASE_URL
