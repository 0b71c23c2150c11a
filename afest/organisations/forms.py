"""WTForms of the organisation screens: OPCO and support body (and a member of one),
structure, cohort, import.

Each field's own rules answer beside it here (a SIRET's key, a département code, a date
order); what needs the database (a SIRET already used, a code taken) is the operation's, and
`perform` shows its refusal beside the field it names. `body_form`, `structure_form` and
`cohort_form` give a screen its form: with its choices, and either as posted or filled in
from the record."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from sqlmodel import Session
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from afest.accounts.forms import PersonForm
from afest.core.forms import CheckboxesField, Form, SaneDate, clean_text, record_id, strip
from afest.core.tabular import TabularError, read_limited, read_table
from afest.models import Cohort, Organisation, OrgKind
from afest.organisations import checks, queries
from afest.organisations.cohorts import CohortData
from afest.organisations.imports import COLUMNS, MAX_BYTES, MAX_ROWS
from afest.organisations.operations import StructureData


def optional_id(value: Any) -> int | None:
    """ "" (no choice) → None; a record id; anything else ValueError."""
    if value in (None, ""):
        return None
    return record_id(value)


class RecordSelectField(SelectField):
    """A select of records by id ("" for none when the first choice is ""): a value that is
    not one of the choices says `invalid`, in French, beside the field."""

    def __init__(self, label=None, validators=None, *, invalid=None, **kwargs):
        super().__init__(label, validators, coerce=optional_id, **kwargs)
        self.invalid = invalid or _l("Choisissez dans la liste.")

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = self.coerce(valuelist[0])
            except ValueError:
                self.data = None
                raise ValueError(self.invalid) from None

    def pre_validate(self, form):
        if not any(self.coerce(choice.value) == self.data for choice in self.choices):
            raise ValidationError(self.invalid)


def choices(pairs, *, none=None) -> list[SelectChoice]:
    """(id, label) pairs as the options of a select, after a "none" option if given."""
    options = [SelectChoice("", none)] if none is not None else []
    return options + [SelectChoice(str(value), label) for value, label in pairs]


def _check(check):
    """A field validator from an afest.organisations.checks function."""

    def validator(form, field):
        if field.data:
            try:
                check(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc.args[0])) from None

    return validator


class BodyForm(Form):
    name = StringField(
        _l("Nom"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un nom.")), Length(max=200)],
    )
    code = StringField(
        _l("Code court"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un code court.")), _check(checks.body_code)],
    )

    def body(self) -> dict[str, str]:
        """The operation's arguments (create_body, update_body)."""
        return {"name": self.name.data, "code": self.code.data}


class StructureForm(Form):
    name = StringField(
        _l("Nom de la structure"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un nom.")), Length(max=200)],
    )
    siret = StringField(
        _l("SIRET"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez le SIRET.")), Length(max=40)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    departement = StringField(
        _l("Département"),
        filters=[strip],
        validators=[
            DataRequired(_l("Indiquez le département.")),
            Length(max=10),
            _check(checks.departement),
        ],
        render_kw={"autocomplete": "off"},
    )
    category = SelectField(
        _l("Catégorie"),
        choices=[
            SelectChoice("", _l("— Choisissez —")),
            *(SelectChoice(code, label) for code, label in checks.CATEGORIES.items()),
        ],
        validators=[DataRequired(_l("Indiquez la catégorie."))],
        validate_choice=False,
    )
    branch = StringField(
        _l("Branche professionnelle"), filters=[strip], validators=[Optional(), Length(max=120)]
    )
    opco = RecordSelectField(
        _l("OPCO"), invalid=_l("OPCO inconnu : choisissez-en un dans la liste.")
    )
    cohorts = CheckboxesField(_l("Cohortes"), coerce=record_id)

    def __init__(self, *args, current_siret: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # the SIRET on record is kept as it is (see operations.checked_structure)
        self.current_siret = current_siret

    def validate_siret(self, field) -> None:
        if re.sub(r"[\s.\-]", "", field.data or "") == (self.current_siret or "-"):
            return
        try:
            checks.siret(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc.args[0])) from None

    def validate_category(self, field) -> None:
        if field.data and field.data not in checks.CATEGORIES:
            raise ValidationError(_l("Catégorie inconnue : choisissez-en une dans la liste."))

    def structure(self) -> dict[str, Any]:
        """The operation's arguments (create_structure, update_structure)."""
        return {"data": self.structure_data(), "cohort_ids": self.cohorts.data or ()}

    def structure_data(self) -> StructureData:
        return StructureData(
            name=self.name.data,
            siret=self.siret.data,
            departement=self.departement.data,
            category=self.category.data,
            branch=self.branch.data or "",
            opco_id=self.opco.data,
        )


SIRET_LINE = re.compile(r"^\s*([\d][\d .]*\d)")


class CohortForm(Form):
    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un code.")), Length(max=60)],
    )
    name = StringField(
        _l("Nom"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un nom.")), Length(max=200)],
    )
    description = TextAreaField(
        _l("Description"), filters=[clean_text], validators=[Optional(), Length(max=5000)]
    )
    funder = RecordSelectField(
        _l("Financeur"), invalid=_l("Financeur inconnu : choisissez un OPCO.")
    )
    support_body = RecordSelectField(
        _l("Organisme d'accompagnement"),
        invalid=_l("Organisme d'accompagnement inconnu : choisissez-en un dans la liste."),
    )
    starts_on = DateField(_l("Début"), validators=[Optional(), SaneDate()])
    ends_on = DateField(_l("Fin"), validators=[Optional(), SaneDate()])
    structures = TextAreaField(
        _l("Structures de la cohorte"),
        filters=[clean_text],
        validators=[Optional(), Length(max=200_000)],
    )
    consultants = CheckboxesField(_l("Consultant·es qui suivent la cohorte"), coerce=record_id)

    def validate_ends_on(self, field) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("La fin précède le début."))

    def validate_structures(self, field) -> None:
        """One structure a line, named by its SIRET (what follows it on the line is read as
        a reminder of its name and ignored)."""
        sirets, bad = [], []
        for number, line in enumerate((field.data or "").splitlines(), start=1):
            if not line.strip():
                continue
            found = SIRET_LINE.match(line)
            digits = re.sub(r"[ .]", "", found.group(1)) if found else ""
            if len(digits) != 14:
                bad.append(str(number))
            else:
                sirets.append(digits)
        if bad:
            raise ValidationError(
                _(
                    "Ligne(s) %(lines)s : chaque ligne commence par le SIRET (14 chiffres) "
                    "d'une structure.",
                    lines=", ".join(bad[:10]),
                )
            )
        self.sirets = tuple(dict.fromkeys(sirets))

    def cohort_data(self) -> CohortData:
        return CohortData(
            code=self.code.data,
            name=self.name.data,
            description=self.description.data or "",
            funder_id=self.funder.data,
            support_body_id=self.support_body.data,
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            structure_sirets=getattr(self, "sirets", ()),
            consultant_ids=frozenset(self.consultants.data or ()),
        )


class ImportForm(Form):
    file = FileField(
        _l("Fichier des structures"),
        validators=[FileRequired(_l("Choisissez un fichier CSV ou Excel (.xlsx)."))],
        render_kw={"accept": ".csv,.txt,.xlsx,text/csv"},
    )

    def validate_file(self, field) -> None:
        """Read the file once, whole: too big, not a table, a column missing → beside it."""
        try:
            self.content = read_limited(field.data.stream, MAX_BYTES)
            self.table = read_table(self.content, COLUMNS, max_rows=MAX_ROWS)
        except TabularError as exc:
            raise ValidationError(str(exc.message)) from None
        self.filename = (field.data.filename or "structures.csv").replace("\\", "/").split("/")[-1]

    def upload(self) -> dict[str, Any]:
        """What afest.core.uploads.keep keeps of the file read."""
        return {"filename": self.filename, "content": self.content}


def consultant_choices(people: list[tuple[int, str, str, bool]]) -> list[SelectChoice]:
    return choices(
        (uid, f"{name} — {email}" + ("" if active else " " + _("(compte désactivé)")))
        for uid, name, email, active in people
    )


class MemberForm(Form):
    """Adding a member to an OPCO or a support body (a new account is invited by e-mail):
    the name and address asked of a structure's new person, with the same rules."""

    full_name = PersonForm.full_name
    email = PersonForm.email

    def member(self) -> dict[str, str]:
        """The operation's arguments (afest.accounts.members.add_member)."""
        return {"full_name": self.full_name.data, "email": self.email.data}


# --- a screen's form: its choices, and posted or filled in from the record ------------------


def _filled(posted: bool, data: dict[str, Any] | None) -> dict[str, Any]:
    """Flask-WTF reads the request's form unless told otherwise: a page shown, not posted,
    is filled in from its record (or blank)."""
    return {} if posted else {"formdata": None, "data": data}


def body_form(body: Organisation | None = None, *, posted: bool = True) -> BodyForm:
    data = {"name": body.name, "code": body.code} if body else None
    return BodyForm(**_filled(posted, data))


def structure_form(
    session: Session, structure: Organisation | None = None, *, posted: bool = True
) -> StructureForm:
    """The structure form, its OPCOs and cohorts to choose from."""
    data = None
    if structure is not None and not posted:
        data = {
            "name": structure.name,
            "siret": structure.siret,
            "departement": structure.departement,
            "category": structure.category or "",
            "branch": structure.branch,
            "opco": structure.opco_id,
            "cohorts": queries.cohort_ids_of(session, structure.id),
        }
    form = StructureForm(
        current_siret=structure.siret if structure else None, **_filled(posted, data)
    )
    form.opco.choices = choices(queries.body_choices(session, OrgKind.OPCO), none=_("— Aucun —"))
    form.cohorts.choices = choices(queries.cohort_choices(session))
    return form


def cohort_form(
    session: Session, cohort: Cohort | None = None, *, posted: bool = True
) -> CohortForm:
    """The cohort form, its OPCOs, support bodies and consultants to choose from."""
    data = None
    if cohort is not None and not posted:
        members, consultant_ids = queries.cohort_members(session, cohort.id)
        data = {
            "code": cohort.code,
            "name": cohort.name,
            "description": cohort.description,
            "funder": cohort.funder_id,
            "support_body": cohort.support_body_id,
            "starts_on": cohort.starts_on,
            "ends_on": cohort.ends_on,
            "structures": "\n".join(f"{s.siret} — {s.name}" for s in members if s.siret),
            "consultants": consultant_ids,
        }
    form = CohortForm(**_filled(posted, data))
    none = _("— Aucun —")
    form.funder.choices = choices(queries.body_choices(session, OrgKind.OPCO), none=none)
    form.support_body.choices = choices(
        queries.body_choices(session, OrgKind.SUPPORT_BODY), none=none
    )
    form.consultants.choices = consultant_choices(queries.consultants(session))
    return form
