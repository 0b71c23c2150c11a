"""Forms of the badges: ask for one, revoke one, check one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

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
    """The badge as a file (the .jwt received) or pasted; the file wins when both are given."""

    fichier = FileField(_l("Le fichier du badge (.jwt)"))
    token = TextAreaField(
        _l("Ou son contenu, collé"),
        description=_l("Le contenu du fichier .jwt reçu (il commence par « eyJ »)."),
        validators=[
            Optional(),
            Length(max=MAX_TOKEN, message=_l("Ce texte est trop long pour être un badge.")),
        ],
        render_kw={"rows": 6, "spellcheck": "false"},
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        sent = self.fichier.data
        if sent:
            body = sent.stream.read(MAX_TOKEN + 1)
            if len(body) > MAX_TOKEN:
                self.fichier.errors = [_l("Ce fichier est trop lourd pour être un badge.")]
                return False
            self.token.data = body.decode("utf-8", errors="replace")
        if not (self.token.data or "").strip():
            missing = _l("Joignez le fichier du badge, ou collez-le.")
            self.token.errors = [*self.token.errors, missing]
            return False
        return valid
