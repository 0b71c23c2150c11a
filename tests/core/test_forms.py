"""The base form: a valid CSRF token, WTForms' own messages in the request's language, ids
checked before any query."""

from __future__ import annotations

import re

import flask_wtf.csrf
import pytest
from flask import g, session
from wtforms import IntegerField

from afest.accounts.forms import LoginForm
from afest.core.forms import MAX_ID, Form, record_id


class _Count(Form):
    class Meta:
        csrf = False

    count = IntegerField("Nombre")


@pytest.mark.parametrize(
    ("lang", "message"),
    [("fr", "N'est pas un entier valide."), ("en", "Not a valid integer value.")],
)
def test_wtforms_own_messages_come_in_the_request_language(app, lang, message):
    with app.test_request_context("/", method="POST", data={"count": "douze"}):
        session["lang"] = lang
        form = _Count()
        assert not form.validate()
        assert form.count.errors == [message]


def test_a_form_shows_a_valid_csrf_token(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the suite runs without it
    with app.test_request_context("/connexion", method="POST", data={"email": "a@b.fr"}):
        g.csrf_valid = True  # as CSRFProtect leaves it for a request it checked
        form = LoginForm()
        form.validate()
        html = str(form.csrf_token())
        token = re.search(r'value="([^"]+)"', html).group(1)
        flask_wtf.csrf.validate_csrf(token)  # the token shown is a valid one
        assert str(form.csrf_token()) == html


@pytest.mark.parametrize("value", ["1", 7, str(MAX_ID)])
def test_record_id_takes_ids_a_row_can_have(value):
    assert record_id(value) == int(value)


@pytest.mark.parametrize("value", ["0", "-1", str(MAX_ID + 1), "9" * 30, "²", "1.0", " 1", ""])
def test_record_id_refuses_the_rest(value):
    with pytest.raises(ValueError):
        record_id(value)
