"""WTForms shared by the blueprints; labels and messages in French through lazy_gettext."""

from __future__ import annotations

from babel.support import Translations
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from markupsafe import escape
from wtforms import EmailField, PasswordField, StringField
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Email, EqualTo, Length

from afest.accounts.operations import MIN_PASSWORD_LENGTH

_WTFORMS_CATALOGUES: dict[str, Translations] = {}


class _TokenWhenShown:
    """The signed CSRF token of a form, signed the first time the form is shown."""

    def __init__(self, sign):
        self._sign, self._token = sign, None

    def __str__(self) -> str:
        if self._token is None:
            self._token = self._sign()
        return self._token

    def __html__(self) -> str:
        return str(escape(str(self)))


class _CSRFSignedWhenShown(_FlaskFormCSRF):
    """Flask-WTF's CSRF for forms, but the token a form carries back out is signed only if the
    form is shown again: a POST that succeeds (a save, then a redirect) signs none. What is
    checked, and how, is Flask-WTF's."""

    def generate_csrf_token(self, csrf_token_field):
        return _TokenWhenShown(
            lambda: super(_CSRFSignedWhenShown, self).generate_csrf_token(csrf_token_field)
        )


class _RequestCatalogue:
    """WTForms' own messages ("Not a valid integer value.") in the request's language, from
    a catalogue read once per language and process (Flask-WTF would read it again on every
    request) and looked up only when a message is needed: a form that validates shows none,
    and the request's language is then never worked out for it."""

    __slots__ = ("_catalogue",)

    def __init__(self) -> None:
        self._catalogue: Translations | None = None

    def _find(self) -> Translations:
        if self._catalogue is None:
            locale = str(get_locale() or "fr")
            catalogue = _WTFORMS_CATALOGUES.get(locale)
            if catalogue is None:
                catalogue = Translations.load(messages_path(), [locale], domain="wtforms")
                _WTFORMS_CATALOGUES[locale] = catalogue
            self._catalogue = catalogue
        return self._catalogue

    def gettext(self, string: str) -> str:
        return self._find().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._find().ngettext(singular, plural, n)


class Form(FlaskForm):
    """Base of afest's forms: WTForms' own messages through `_RequestCatalogue`; the CSRF
    token signed when the form is shown, not each time one is read."""

    class Meta:
        csrf_class = _CSRFSignedWhenShown

        def get_translations(self, form):
            return _RequestCatalogue()


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
