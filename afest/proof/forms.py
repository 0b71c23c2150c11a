"""WTForms of the proof domain: the signature of a certificat de réalisation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from afest.core.forms import Form, strip

ROLE_MAX = 120
PLACE_MAX = 120
TOO_LONG = _l("%(max)d caractères au plus.")


class CertificateSignForm(Form):
    """The dispensateur's signatory signs: her role ("qualité"), the place, her password."""

    role = StringField(
        _l("Votre qualité (fonction dans la structure)"),
        filters=[strip],
        validators=[
            DataRequired(_l("Indiquez votre qualité, par exemple « Directrice ».")),
            Length(max=ROLE_MAX, message=TOO_LONG),
        ],
        render_kw={"autocomplete": "organization-title", "maxlength": ROLE_MAX},
    )
    place = StringField(
        _l("Fait à (commune)"),
        filters=[strip],
        validators=[
            DataRequired(_l("Indiquez la commune où vous signez.")),
            Length(max=PLACE_MAX, message=TOO_LONG),
        ],
        render_kw={"autocomplete": "address-level2", "maxlength": PLACE_MAX},
    )
    password = PasswordField(
        _l("Mot de passe (pour confirmer votre signature)"),
        validators=[DataRequired(_l("Indiquez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )
