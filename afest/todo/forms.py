"""Forms of the "Rappels et agenda" page: how often one is reminded; the calendar address's
buttons are one-button forms (afest.core.forms.EmptyForm)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from afest.core.forms import Form
from afest.todo import preferences


class ReminderForm(Form):
    frequency = RadioField(
        _l("Recevoir un courriel de rappel"),
        choices=[SelectChoice(value, label) for value, label in preferences.LABELS.items()],
        validators=[InputRequired(_l("Choisissez quand recevoir les rappels."))],
    )

    def __init__(self, *args, current: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if current is not None and not self.is_submitted():
            self.frequency.data = current
