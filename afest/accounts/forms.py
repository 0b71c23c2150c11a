"""WTForms of the accounts: signing in, changing one's password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from afest.accounts.operations import MIN_PASSWORD_LENGTH
from afest.core.forms import Form, strip


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
