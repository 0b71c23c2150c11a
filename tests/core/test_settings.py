"""Settings: every malformed value stops the app with one clear sentence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from afest import create_app
from afest.core.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_load():
    settings = load_settings(environ={})
    assert settings["ENV"] == "development"
    assert settings["DEFAULT_LOCALE"] == "fr"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AFEST_SESSION_IDLE_MINUTES": "abc"}, "SESSION_IDLE_MINUTES must be a whole number"),
        ({"AFEST_SESSION_IDLE_MINUTES": "-5"}, "SESSION_IDLE_MINUTES must be greater than 0"),
        ({"AFEST_ENV": "prod"}, "ENV must be one of development, production, testing"),
        ({"AFEST_DATABASE_URL": "not a url"}, "DATABASE_URL is not a database URL"),
        ({"AFEST_DATABASE_URL": "mysql://x@y/z"}, "must be an SQLite or PostgreSQL URL"),
        ({"AFEST_LOGIN_RATE_LIMIT": "lots"}, "LOGIN_RATE_LIMIT must look like '10 per minute'"),
        ({"AFEST_TIMEZONE": "Mars/Olympus"}, "TIMEZONE is not a known time zone"),
        ({"AFEST_DEFAULT_LOCALE": "de"}, "DEFAULT_LOCALE must be one of fr, en"),
        ({"AFEST_CONFIG": "/nonexistent/afest.toml"}, "Configuration file not found"),
        ({"AFEST_ROLLUP_SETTLE_SECONDS": "soon"}, "ROLLUP_SETTLE_SECONDS must be a number"),
        ({"AFEST_ROLLUP_SETTLE_SECONDS": "-1"}, "ROLLUP_SETTLE_SECONDS must be between 0"),
        ({"AFEST_ROLLUP_SETTLE_SECONDS": "nan"}, "ROLLUP_SETTLE_SECONDS must be between 0"),
    ],
)
def test_malformed_values_are_named(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


def test_invalid_toml_file_is_reported(tmp_path):
    bad = tmp_path / "afest.toml"
    bad.write_text("ENV = [unclosed")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(environ={"AFEST_CONFIG": str(bad)})


def test_unknown_key_in_file_is_reported(tmp_path):
    file = tmp_path / "afest.toml"
    file.write_text('SECRET_KEYY = "typo"\n')
    with pytest.raises(ConfigError, match="Unknown setting"):
        load_settings(environ={"AFEST_CONFIG": str(file)})


@pytest.mark.parametrize("secret", [None, "dev-insecure-change-me", "short"])
def test_production_refuses_a_default_or_weak_secret(secret):
    env = {"AFEST_ENV": "production"}
    if secret is not None:
        env["AFEST_SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        load_settings(environ=env)


def test_production_with_a_real_secret_starts():
    settings = load_settings(environ={"AFEST_ENV": "production", "AFEST_SECRET_KEY": "x" * 40})
    assert settings["ENV"] == "production"


def test_production_cookies_are_secure_and_hsts_is_sent(tmp_path):
    app = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/connexion")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_cli_reports_a_bad_setting_in_one_line_without_traceback(tmp_path):
    env = {**os.environ, "AFEST_SESSION_IDLE_MINUTES": "trente"}
    env.pop("AFEST_TEST_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "afest", "afest", "seed-demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SESSION_IDLE_MINUTES must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_gunicorn_settings_are_a_process_a_core_with_threads_by_engine(monkeypatch, tmp_path):
    """config/gunicorn.conf.py, as the README and bench/load.py start the app: two threads a
    process on PostgreSQL, one on SQLite (the default), wherever the URL is set."""
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"
    for name in ("AFEST_WORKERS", "AFEST_THREADS", "AFEST_DATABASE_URL", "AFEST_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(str(path))
    assert conf["worker_class"] == "gthread" and conf["threads"] == 1
    assert conf["workers"] >= 1 and conf["bind"].startswith("127.0.0.1:")
    monkeypatch.setenv("AFEST_DATABASE_URL", "postgresql+psycopg://afest@db/afest")
    assert runpy.run_path(str(path))["threads"] == 2
    monkeypatch.delenv("AFEST_DATABASE_URL")
    config = tmp_path / "afest.toml"
    config.write_text('DATABASE_URL = "postgresql+psycopg://afest@db/afest"\n')
    monkeypatch.setenv("AFEST_CONFIG", str(config))
    assert runpy.run_path(str(path))["threads"] == 2
    monkeypatch.setenv("AFEST_THREADS", "4")
    monkeypatch.setenv("AFEST_WORKERS", "3")
    conf = runpy.run_path(str(path))
    assert (conf["workers"], conf["threads"]) == (3, 4)
