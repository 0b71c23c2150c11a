"""The base form: CSRF tokens signed when a form is shown, ids checked before any query."""

from __future__ import annotations

import re

import flask_wtf.csrf
import pytest
from flask import g

from afest.forms import MAX_ID, LoginForm, record_id


def test_a_form_read_from_a_post_signs_its_token_only_if_shown_again(app, monkeypatch):
    signed = []
    real = flask_wtf.csrf.generate_csrf

    def counting(*args, **kwargs):
        signed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(flask_wtf.csrf, "generate_csrf", counting)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the suite runs without it
    with app.test_request_context("/connexion", method="POST", data={"email": "a@b.fr"}):
        g.csrf_valid = True  # as CSRFProtect leaves it for a request it checked
        form = LoginForm()
        form.validate()
        assert signed == []  # a save that succeeds never shows its form again
        html = str(form.csrf_token())
        assert signed == [1]
        token = re.search(r'value="([^"]+)"', html).group(1)
        flask_wtf.csrf.validate_csrf(token)  # the token shown is a valid one
        assert str(form.csrf_token()) == html and signed == [1]  # signed once


@pytest.mark.parametrize("value", ["1", 7, str(MAX_ID)])
def test_record_id_takes_ids_a_row_can_have(value):
    assert record_id(value) == int(value)


@pytest.mark.parametrize("value", ["0", "-1", str(MAX_ID + 1), "9" * 30, "²", "1.0", " 1", ""])
def test_record_id_refuses_the_rest(value):
    with pytest.raises(ValueError):
        record_id(value)
