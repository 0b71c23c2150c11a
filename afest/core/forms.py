"""What every form of afest shares: the base form, the filters and fields used across domains;
labels and messages in French through lazy_gettext."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    Field,
    HiddenField,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.utils import unset_value
from wtforms.validators import Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

from afest.core import clock
from afest.core.controls import holds_control, multi_line, single_line


def no_control_in_secret(form, field) -> None:
    """A password or a PIN is never altered: one holding a control character (which no
    keyboard types, so that nobody could type it again) is refused beside its field."""
    if holds_control(field.data):
        raise ValidationError(
            _l("Ce champ contient un caractère invisible (caractère de contrôle) : retapez-le.")
        )


def no_control_in_value(form, field) -> None:
    """A value the page itself holds (a hidden field: an id, a token, a choice) is never
    altered either: one holding a control character did not come from the page as it was
    sent, and is refused (cleaned, "0\\x00" would become the valid "0")."""
    if holds_control(field.data):
        raise ValidationError(_l("Valeur illisible : rechargez la page et recommencez."))


def guarded(field: Field) -> Field:
    """A bound field, kept from control characters: text loses them before any other filter
    runs (multi-line text keeps its tabs and line feeds, a one-line value shows its line
    breaks as spaces); a secret or a hidden value holding one is refused, never altered
    (no_control_in_secret, no_control_in_value). Dates, numbers and choices are parsed, not
    kept as typed."""
    if isinstance(field, PasswordField):
        field.validators = [*field.validators, no_control_in_secret]
    elif isinstance(field, HiddenField):
        field.validators = [*field.validators, no_control_in_value]
    elif isinstance(field, TextAreaField):
        field.filters = [multi_line, *field.filters]
    elif isinstance(field, StringField):  # and its kinds: e-mail, search...
        field.filters = [single_line, *field.filters]
    return field


class NoControlCharacters:
    """Of a form (afest's Form, or a plain WTForms one read from a query string): every text
    field it binds is guarded from control characters (`guarded`), whoever declared it."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            return guarded(super().bind_field(form, unbound_field, options))


class Form(NoControlCharacters, FlaskForm):
    """Base of afest's forms: Flask-WTF's, with its CSRF token, and WTForms' own messages
    ("Not a valid integer value.") in the request's language through Flask-Babel
    (Flask-WTF's WTF_I18N_ENABLED, on by default); no control character reaches what a form
    gives (NoControlCharacters)."""


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
    """Tablet keyboards add spaces around a one-line value; its control characters go as the
    form's own filter removes them (afest.core.controls, the one definition); a no-break
    space, as French writes before « : » or inside « », stays."""
    if value is None:
        return None
    return single_line(value).strip()


class EmptyForm(Form):
    """A form with only its CSRF token, for one-button actions."""


class SearchForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Rechercher"), validators=[Length(max=100)])


def clean_text(value: str | None) -> str | None:
    """Multi-line text keeps its line breaks and tabs; its other control characters (NUL
    first, which PostgreSQL refuses) go, as afest.core.controls defines them."""
    if value is None:
        return None
    return multi_line(value).strip()


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of check boxes (44 px each on a tablet)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --- a sane date ------------------------------------------------------------------------------

EARLIEST = date(2000, 1, 1)  # afest records nothing older: a year typed 0001 or 1026 is a slip
YEARS_AHEAD = 5  # nor anything planned further ahead than this


def latest(today: date) -> date:
    """The last day a date may name, planned or not: five years from today."""
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def date_problem(day: date | None, *, past: bool = False) -> str | None:
    """Why a date cannot be kept (before 2000, more than five years ahead, or, with `past`,
    after today for what has already happened), or None."""
    if day is None:
        return None
    if isinstance(day, datetime):
        day = day.date()
    today = clock.today()
    if day < EARLIEST:
        return _l("Date trop ancienne : le %(d)s au plus tôt.", d=format_date(EARLIEST, "long"))
    if past and day > today:
        return _l("Cette date n'est pas encore arrivée : aujourd'hui au plus tard.")
    if day > latest(today):
        return _l(
            "Date trop lointaine : le %(d)s au plus tard.", d=format_date(latest(today), "long")
        )
    return None


class SaneDate:
    """A field's date within what afest records (date_problem): from 1 January 2000 to five
    years from today; `past=True` for what has already happened (today at the latest). The
    message goes beside the field. Every date field of the forms has one."""

    def __init__(self, *, past: bool = False):
        self.past = past

    def __call__(self, form, field) -> None:
        problem = date_problem(field.data, past=self.past)
        if problem is not None:
            raise ValidationError(problem)


# --- a local date and time, typed the same way in every browser ------------------------------

_DAY = re.compile(r"^\s*(\d{1,2})\s*[/.,\- ]\s*(\d{1,2})\s*[/.,\- ]\s*(\d{4})\s*$")
_DAY_DIGITS = re.compile(r"^\s*(\d{2})(\d{2})(\d{4})\s*$")  # 03122026
_TIME = re.compile(r"^\s*(\d{1,2})\s*(?:[:hH.,]\s*(\d{2})?)?\s*$")  # 14:30, 14h30, 14h, 9
_TIME_DIGITS = re.compile(r"^\s*(\d{2})(\d{2})\s*$")  # 1430
ISO_MINUTES = "%Y-%m-%dT%H:%M"


def parse_day(text: str) -> date:
    """A day as people write it in France: 3/12/2026, 03.12.2026, 03-12-2026, 03122026."""
    match = _DAY.match(text) or _DAY_DIGITS.match(text)
    if not match:
        raise ValueError(text)
    day, month, year = (int(part) for part in match.groups())
    return date(year, month, day)  # ValueError for 31/02


def parse_time(text: str) -> time:
    """A time on 24 hours: 14:30, 14h30, 14h, 14.30, 1430, 9."""
    match = _TIME.match(text) or _TIME_DIGITS.match(text)
    if not match:
        raise ValueError(text)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    return time(hour, minute)  # ValueError for 25:00


_SEPARATOR = "\x1f"  # between the day and the time joined: a control character none typed


class _Joined:
    """The form data a LocalDateTimeField reads: its two inputs joined under its own name, or
    its single ISO input; either without control characters."""

    def __init__(self, formdata, name: str):
        self.formdata, self.name = formdata, name
        self.joined = f"{name}-date" in formdata

    def __contains__(self, key: str) -> bool:
        return (key == self.name and self.joined) or key in self.formdata

    def getlist(self, key: str) -> list[str]:
        if key != self.name:
            return self.formdata.getlist(key)
        if not self.joined:
            return [single_line(value) for value in self.formdata.getlist(key)]
        day = single_line(self.formdata.get(f"{key}-date", ""))
        hour = single_line(self.formdata.get(f"{key}-time", ""))
        if not day.strip() and not hour.strip():
            return [""]  # nothing typed: InputRequired says so
        return [f"{day}{_SEPARATOR}{hour}"]


class LocalDateTimeField(Field):
    """A local date and time as two text inputs, `<name>-date` (dd/mm/yyyy) and `<name>-time`
    (HH:MM on 24 hours), that read the same in every browser: a `datetime-local` input is
    shown in the browser's own locale ("12/02/2026, 02:50 AM" in a French page). Its data is a
    naive datetime, as DateTimeLocalField's. A form posting `<name>` alone in ISO 8601
    (2026-12-03T14:30, the single input of earlier pages, whose entries may still wait in a
    tablet's offline queue) is read as before. Rendered by the forms macro `date_time`."""

    day_message = _l("Date : jour/mois/année, par exemple 03/12/2026.")
    time_message = _l("Heure : heures et minutes sur 24 heures, par exemple 14:30.")

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.typed = ("", "")  # what was typed, shown again beside a message

    def process(self, formdata, data=unset_value, extra_filters=None):
        if formdata is not None:
            formdata = _Joined(formdata, self.name)
        super().process(formdata, data, extra_filters)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0]
        if not text.strip():
            self.data = None
            return
        if _SEPARATOR not in text:  # the ISO value of a single input
            self.typed = (text, "")
            try:
                self.data = datetime.strptime(text.strip(), ISO_MINUTES)
            except ValueError:
                self.data = None
                raise ValueError(self.day_message) from None
            return
        day, hour = text.split(_SEPARATOR, 1)
        self.typed = (day, hour)
        try:
            on = parse_day(day)
        except ValueError:
            self.data = None
            raise ValueError(self.day_message) from None
        try:
            at = parse_time(hour)
        except ValueError:
            self.data = None
            raise ValueError(self.time_message) from None
        self.data = datetime.combine(on, at)

    def day_value(self) -> str:
        if self.raw_data and self.process_errors:
            return self.typed[0]
        return self.data.strftime("%d/%m/%Y") if self.data else self.typed[0]

    def time_value(self) -> str:
        if self.raw_data and self.process_errors:
            return self.typed[1]
        return self.data.strftime("%H:%M") if self.data else self.typed[1]


class LongSelect(Select):
    """WTForms' select, its options written in one pass: for a list of a hundred choices (a
    dashboard's départements), WTForms builds each option's attributes one by one, a tenth of
    the page's time. Plain options only (no groups, no attributes of their own)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in self.validation_attrs:
            if name not in kwargs and getattr(flags, name, False):
                kwargs[name] = True
        options = "".join(
            f'<option value="{escape(c.value)}"{" selected" if c.selected else ""}>'
            f"{escape(c.label)}</option>"
            for c in field.iter_choices()
        )
        params = html_params(name=field.name, **kwargs)  # escaped, as each option above
        return Markup(f"<select {params}>{options}</select>")  # noqa: S704
