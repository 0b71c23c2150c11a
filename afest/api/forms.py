"""The form of the API tokens' page: a name, and the organisation the token reads as."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from afest.api.tokens import NAME_MAX
from afest.core.forms import Form


class TokenForm(Form):
    name = StringField(
        _l("Nom du jeton"),
        validators=[
            DataRequired(_l("Donnez un nom au jeton (le système qui l'utilisera).")),
            Length(max=NAME_MAX, message=_l("%(max)d caractères au plus.")),
        ],
    )
    organisation = SelectField(_l("Organisation"), validate_choice=False)

    def setup(self, organisations) -> None:
        self.organisation.choices = [(o.public_id, o.name) for o in organisations]

    def chosen(self, organisations):
        """The organisation chosen, or None with a message beside the field."""
        found = next((o for o in organisations if o.public_id == self.organisation.data), None)
        if found is None:
            self.organisation.errors = [_l("Choisissez une organisation dans la liste.")]
        return found
