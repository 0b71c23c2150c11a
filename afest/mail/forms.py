"""The Courriels page's filter: a state and a page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from afest.core.forms import Form
from afest.core.paging import PageField
from afest.mail.queries import SHOWN_STATES, TO_CHECK

STATE_LABELS = {
    TO_CHECK: _l("À vérifier"),
    "failed": _l("En échec"),
    "pending": _l("En attente"),
    "sending": _l("En cours d'envoi"),
    "kept": _l("Conservé (pas de serveur SMTP)"),
    "sent": _l("Envoyé"),
}


class OutboxFilterForm(Form):
    """GET filter, no CSRF (it changes nothing)."""

    class Meta:
        csrf = False  # a GET address carries no token: with one required, no filter applied

    etat = SelectField(
        _l("État"),
        choices=[
            SelectChoice("", _l("Tous")),
            *(SelectChoice(state, STATE_LABELS[state]) for state in SHOWN_STATES),
        ],
        validators=[Optional()],
        default="",
    )
    page = PageField()

    def chosen_state(self) -> str | None:
        """The state to show, or None for every message (an unknown one filters nothing)."""
        return self.etat.data if self.validate() and self.etat.data else None
