"""WTForms of the accounts: signing in, passwords (changed, forgotten, chosen from a link),
the tablet PIN, the accounts' search, deactivation."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, Length

from afest.accounts import imports
from afest.accounts.operations import MIN_PASSWORD_LENGTH
from afest.core.forms import CheckboxesField, Form, SearchForm, strip
from afest.core.importing import ImportForm, file_field
from afest.core.paging import PageField


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


def _new_password_field(label, required) -> PasswordField:
    """A password being chosen: its length rule is the accounts' own."""
    return PasswordField(
        label,
        validators=[
            DataRequired(required),
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


class PasswordChangeForm(Form):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(_l("Indiquez votre mot de passe actuel."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password_field(
        _l("Nouveau mot de passe"), _l("Choisissez un nouveau mot de passe.")
    )
    confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[EqualTo("new_password", _l("Les deux mots de passe diffèrent."))],
        render_kw={"autocomplete": "new-password"},
    )

    def passwords(self) -> dict[str, str]:
        return {"current": self.current_password.data, "new": self.new_password.data}


class ForgotPasswordForm(Form):
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


class ChooseSecretsForm(Form):
    """Following an invitation or a reset link: the password, and an invited tutor's PIN
    (the view removes the PIN fields for anybody else)."""

    password = _new_password_field(_l("Mot de passe"), _l("Choisissez un mot de passe."))
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[EqualTo("password", _l("Les deux mots de passe diffèrent."))],
        render_kw={"autocomplete": "new-password"},
    )
    pin = PasswordField(
        _l("Code de tablette"),
        validators=[DataRequired(_l("Choisissez votre code de tablette."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
    )
    pin_confirm = PasswordField(
        _l("Confirmez le code"),
        validators=[EqualTo("pin", _l("Les deux codes diffèrent."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
    )

    def without_pin(self) -> ChooseSecretsForm:
        del self.pin
        del self.pin_confirm
        return self

    def secrets(self) -> dict[str, str | None]:
        """The operation's arguments: the password, and the PIN when it was asked for."""
        return {"password": self.password.data, "pin": self.pin.data if "pin" in self else None}


class PinChangeForm(Form):
    password = PasswordField(
        _l("Votre mot de passe"),
        validators=[DataRequired(_l("Indiquez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )
    pin = PasswordField(
        _l("Nouveau code de tablette"),
        validators=[DataRequired(_l("Choisissez un code."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
    )
    pin_confirm = PasswordField(
        _l("Confirmez le code"),
        validators=[EqualTo("pin", _l("Les deux codes diffèrent."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
    )


def _structure_role_choices():
    from afest.accounts.people import STRUCTURE_ROLES
    from afest.core.http import ROLE_LABELS

    return [(role.value, ROLE_LABELS[role]) for role in STRUCTURE_ROLES]


class RolesForm(Form):
    """A person's roles within a structure."""

    roles = CheckboxesField(
        _l("Rôles dans la structure"),
        validators=[DataRequired(_l("Choisissez au moins un rôle."))],
        validate_choice=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.roles.choices = _structure_role_choices()


class PersonForm(RolesForm):
    """Adding a person to a structure (a new account is invited by e-mail)."""

    full_name = StringField(
        _l("Nom et prénom"),
        filters=[strip],
        validators=[
            DataRequired(_l("Indiquez le nom de la personne.")),
            Length(max=200, message=_l("200 caractères au plus.")),
        ],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        _l("Adresse e-mail"),
        filters=[strip],
        validators=[
            DataRequired(_l("Indiquez son adresse e-mail.")),
            Length(max=254, message=_l("Adresse trop longue.")),
            Email(_l("Ce n'est pas une adresse e-mail valide."), check_deliverability=False),
        ],
        render_kw={"autocapitalize": "none", "autocomplete": "off"},
    )

    def person(self) -> dict:
        return {
            "full_name": self.full_name.data,
            "email": self.email.data,
            "roles": self.roles.data,
        }


class ActiveForm(Form):
    active = HiddenField(validators=[AnyOf(["0", "1"])])

    def wanted(self) -> bool:
        """Whether the account is to be active ("1") or deactivated ("0")."""
        return self.active.data == "1"

    def done(self) -> str:
        """What the page says once it is done."""
        if self.wanted():
            return _("Compte réactivé.")
        return _("Compte désactivé : ses sessions sont fermées.")


class AccountSearchForm(SearchForm):
    """The Comptes page's GET filter: a name or an address, and a page."""

    page = PageField()

    def needle(self) -> str:
        """What to look for; too long a search looks for nothing: every account."""
        return self.q.data if self.validate() and self.q.data else ""


class ReplaceTutorForm(Form):
    """For each open protocol of a leaving tutor, who takes it over; made for the protocols
    listed (replace_tutor_form)."""

    rows: list

    def choices(self) -> dict[int, int]:
        return {item.protocol.id: int(field.data) for item, field in self.rows}


def replace_tutor_form(tutored, candidates) -> ReplaceTutorForm:
    """One select per protocol (`successor_<protocol id>`) among the structure's tutors."""
    options = [("", _l("— choisir —"))] + [(str(u.id), u.full_name) for u in candidates]
    fields = {
        f"successor_{item.protocol.id}": SelectField(
            _l("Reprise par"),
            choices=options,
            validators=[DataRequired(_l("Choisissez qui reprend ce protocole."))],
        )
        for item in tutored
    }
    form = type("ReplaceTutorFormFor", (ReplaceTutorForm,), fields)()
    form.rows = [(item, form[f"successor_{item.protocol.id}"]) for item in tutored]
    return form


class PeopleImportForm(ImportForm):
    """A file of people to import into a structure (CSV or XLSX)."""

    spec = imports.SPEC
    file = file_field(_l("Fichier des personnes"))
