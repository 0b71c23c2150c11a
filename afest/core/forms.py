"""What every form of afest shares: the base form, the filters and fields used across domains;
labels and messages in French through lazy_gettext."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget


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


class EmptyForm(Form):
    """A form with only its CSRF token, for one-button actions."""


class SearchForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Rechercher"), validators=[Length(max=100)])


def clean_text(value: str | None) -> str | None:
    """Multi-line text keeps its line breaks and tabs; other control characters (NUL first,
    which PostgreSQL refuses) never belong in it."""
    if value is None:
        return None
    return "".join(ch for ch in value if ch in "\n\t" or ch.isprintable()).strip()


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of check boxes (44 px each on a tablet)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
