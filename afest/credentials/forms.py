"""Forms of the badges: ask for one, revoke one, check one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from afest.core.forms import Form

MAX_TOKEN = 60_000  # a credential's JWT is a few kilobytes


class IssueForm(Form):
    earned = HiddenField(validators=[DataRequired(_l("Choisissez un badge."))])


class RevokeForm(Form):
    reason = TextAreaField(
        _l("Motif de la révocation"),
        validators=[
            DataRequired(_l("Indiquez le motif de la révocation.")),
            Length(max=2000, message=_l("2000 caractères au plus.")),
        ],
        render_kw={"rows": 3},
    )


class VerifyBadgeForm(Form):
    token = TextAreaField(
        _l("Le badge à vérifier"),
        description=_l("Collez le contenu du fichier .jwt reçu (il commence par « eyJ »)."),
        validators=[
            DataRequired(_l("Collez le badge à vérifier.")),
            Length(max=MAX_TOKEN, message=_l("Ce texte est trop long pour être un badge.")),
        ],
        render_kw={"rows": 6, "spellcheck": "false"},
    )
