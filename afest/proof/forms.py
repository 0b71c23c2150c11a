"""WTForms of the proof domain: the signature of a certificat de réalisation, the file sent
to the verification page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from afest.core.forms import Form, strip
from afest.core.tabular import megabytes
from afest.proof import verification

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


class VerifyUploadForm(Form):
    """A proof pack's ZIP or one of its PDFs, as received: checked by its bytes, not its name."""

    fichier = FileField(
        _l("Dossier reçu (ZIP) ou document (PDF)"),
        validators=[FileRequired(_l("Choisissez le fichier ZIP ou PDF à vérifier."))],
        render_kw={"accept": ".zip,.pdf,application/zip,application/pdf"},
    )

    def validate_fichier(self, field) -> None:
        """Read it once, at most MAX_UPLOAD bytes; no ZIP or PDF → beside the field."""
        self.content = field.data.stream.read(verification.MAX_UPLOAD + 1)
        if len(self.content) > verification.MAX_UPLOAD:
            raise ValidationError(too_big())
        try:
            verification.kind_of(self.content)
        except verification.BadUpload as exc:
            raise ValidationError(str(exc)) from None


def too_big() -> str:
    return str(_l("Le fichier dépasse %(size)s Mo.", size=megabytes(verification.MAX_UPLOAD)))
