"""The mail settings: their defaults, and a malformed one named in one sentence."""

from __future__ import annotations

import pytest

from afest.core.settings import ConfigError, load_settings


def test_defaults_send_nothing():
    settings = load_settings(environ={})
    assert settings["SMTP_HOST"] == "" and settings["SMTP_PORT"] == 587
    assert settings["SMTP_TLS"] == "starttls" and settings["SMTP_TIMEOUT"] == 10
    assert settings["MAIL_SENDER"] == "afest <no-reply@afest.localhost>"
    assert settings["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert settings["MAIL_MAX_ATTEMPTS"] == 10 and settings["RETENTION_MAIL_DAYS"] == 90


def test_production_values_from_the_environment():
    settings = load_settings(
        environ={
            "AFEST_SMTP_HOST": "smtp.example.org",
            "AFEST_SMTP_PORT": "465",
            "AFEST_SMTP_TLS": "ssl",
            "AFEST_PUBLIC_BASE_URL": "https://afest.example.org/",
        }
    )
    assert settings["SMTP_PORT"] == 465 and settings["SMTP_TLS"] == "ssl"
    assert settings["PUBLIC_BASE_URL"] == "https://afest.example.org"  # no trailing slash


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AFEST_SMTP_TLS": "tls"}, "SMTP_TLS must be one of starttls, ssl, none, not 'tls'."),
        ({"AFEST_SMTP_PORT": "70000"}, "SMTP_PORT"),
        ({"AFEST_SMTP_TIMEOUT": "0"}, "SMTP_TIMEOUT"),
        ({"AFEST_PUBLIC_BASE_URL": "afest.example.org"}, "PUBLIC_BASE_URL must be an address"),
        ({"AFEST_PUBLIC_BASE_URL": "https://a.org/?x=1"}, "PUBLIC_BASE_URL must be an address"),
        ({"AFEST_MAIL_SENDER": "afest"}, "MAIL_SENDER must be like"),
        ({"AFEST_MAIL_MAX_ATTEMPTS": "0"}, "MAIL_MAX_ATTEMPTS must be greater than 0"),
    ],
)
def test_malformed_mail_settings_are_named(env, message):
    with pytest.raises(ConfigError, match=message.replace("?", r"\?").replace(".", r"\.")):
        load_settings(environ=env)
