"""WTForms shared by the blueprints; labels and messages in French through lazy_gettext."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from afest.accounts.operations import MIN_PASSWORD_LENGTH


class Form(FlaskForm):
    """Base of afest's forms: Flask-WTF's as it comes, with its CSRF token, and WTForms' own
    messages ("Not a valid integer value.") in the request's language through Flask-Babel
    (Flask-WTF's WTF_I18N_ENABLED, on by default)."""


# The largest id a row can have (PostgreSQL's integer): anything larger names no row, and the
# database would refuse to compare it rather than find nothing.
MAX_ID = 2**31 - 1


def record_id(value: str | int) -> int:
    """A row id sent by a form: ASCII digits within the range ids take, else ValueError (a
    field coercing with it then says its value is invalid)."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise ValueError(f"not a record id: {text[:20]!r}")
    return int(text)


def strip(value: str | None) -> str | None:
    """Tablet keyboards add spaces; control characters never belong in a one-line field."""
    if value is None:
        return None
    return "".join(ch for ch in value if ch.isprintable()).strip()


class LoginForm(Form):
    email = EmailField(
        _l("Adresse e-mail"),
        filters=[strip],
        validators=[
            DataRequired(_l("Indiquez votre adresse e-mail.")),
            Length(max=254, message=_l("Adresse trop longue.")),
            Email(_l("Ce n'est pas une adresse e-mail valide."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            DataRequired(_l("Indiquez votre mot de passe.")),
            Length(max=200, message=_l("Mot de passe trop long.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordChangeForm(Form):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(_l("Indiquez votre mot de passe actuel."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[
            DataRequired(_l("Choisissez un nouveau mot de passe.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l(
                    "Entre %(min)d et %(max)d caractères.", min=MIN_PASSWORD_LENGTH, max=200
                ),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[EqualTo("new_password", _l("Les deux mots de passe diffèrent."))],
        render_kw={"autocomplete": "new-password"},
    )


class EmptyForm(Form):
    """A form with only its CSRF token, for one-button actions."""


class SearchForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Rechercher"), validators=[Length(max=100)])
