"""WTForms of the protocol, evaluation and référentiel screens (labels in French)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from afest.core.forms import Form, strip

TEXT = 10_000


def clean_text(value: str | None) -> str | None:
    """Multi-line text keeps its line breaks and tabs; other control characters (NUL first,
    which PostgreSQL refuses) never belong in it."""
    if value is None:
        return None
    return "".join(ch for ch in value if ch in "\n\t" or ch.isprintable()).strip()


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of check boxes (44 px each on a tablet)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ImportForm(Form):
    kind = SelectField(
        _l("Format du fichier"),
        choices=[
            SelectChoice("json", _l("Référentiel afest (JSON)")),
            SelectChoice("csv", _l("Table des blocs de France compétences (CSV)")),
        ],
    )
    file = FileField(_l("Fichier"), validators=[FileRequired(_l("Choisissez un fichier."))])


class ReferentialForm(Form):
    structure = SelectField(_l("Structure"), coerce=int)
    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un code.")), Length(max=40)],
    )
    title = StringField(
        _l("Intitulé"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un intitulé.")), Length(max=300)],
    )


class BlockForm(Form):
    code = StringField(
        _l("Code du bloc"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un code.")), Length(max=40)],
    )
    title = StringField(
        _l("Intitulé du bloc"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un intitulé.")), Length(max=2000)],
    )


class CompetenceForm(Form):
    block = SelectField(_l("Bloc"), coerce=int)
    code = StringField(
        _l("Code de la compétence ou mission"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un code.")), Length(max=40)],
    )
    title = StringField(
        _l("Intitulé"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un intitulé.")), Length(max=2000)],
    )


class LevelsForm(Form):
    levels = TextAreaField(
        _l("Échelle de niveaux"),
        filters=[clean_text],
        validators=[DataRequired(_l("Indiquez les niveaux.")), Length(max=2000)],
    )


class ProtocolForm(Form):
    learner = SelectField(_l("Apprenant·e"), coerce=int)
    referential = SelectField(_l("Référentiel"), coerce=int)
    title = StringField(
        _l("Intitulé de l'action"),
        filters=[strip],
        validators=[DataRequired(_l("Donnez un intitulé à l'action.")), Length(max=200)],
    )
    objective = TextAreaField(
        _l("Objectif professionnel"), filters=[clean_text], validators=[Length(max=TEXT)]
    )
    activity_analysis = TextAreaField(
        _l("Analyse de l'activité et adaptation pédagogique"),
        filters=[clean_text],
        validators=[Length(max=TEXT)],
    )
    work_situations = TextAreaField(
        _l("Situations de travail retenues"), filters=[clean_text], validators=[Length(max=TEXT)]
    )
    tutors = CheckboxesField(_l("Tuteur·rice(s) désigné·e(s)"), coerce=int)
    competences = CheckboxesField(_l("Compétences visées"), coerce=int)
    planned_start = DateField(
        _l("Début prévu"), validators=[InputRequired(_l("Indiquez la date de début."))]
    )
    planned_end = DateField(
        _l("Fin prévue"), validators=[InputRequired(_l("Indiquez la date de fin."))]
    )
    planned_hours = IntegerField(
        _l("Heures prévues"),
        validators=[
            Optional(),
            NumberRange(min=0, max=2000, message=_l("Entre 0 et 2000 heures.")),
        ],
        default=0,
    )


class PlanForm(Form):
    kind = SelectField(
        _l("Type de séquence"),
        choices=[
            SelectChoice("situation", _l("Mise en situation")),
            SelectChoice("reflection", _l("Séquence réflexive")),
        ],
    )
    planned_on = DateField(_l("Date prévue"), validators=[InputRequired(_l("Indiquez la date."))])
    title = StringField(
        _l("Intitulé"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un intitulé.")), Length(max=200)],
    )
    minutes = IntegerField(
        _l("Durée prévue (minutes)"),
        validators=[InputRequired(), NumberRange(min=1, max=720, message=_l("De 1 à 720 min."))],
    )


class SignForm(Form):
    role = SelectField(_l("Je signe en tant que"))
    password = PasswordField(
        _l("Mot de passe (pour confirmer votre signature)"),
        validators=[DataRequired(_l("Indiquez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )


class StopForm(Form):
    reason = TextAreaField(
        _l("Motif de l'arrêt"),
        filters=[clean_text],
        validators=[DataRequired(_l("Indiquez le motif de l'arrêt.")), Length(max=2000)],
    )


class EvaluationForm(Form):
    kind = SelectField(
        _l("Type d'évaluation"),
        choices=[
            SelectChoice("intermediate", _l("Intermédiaire")),
            SelectChoice("final", _l("Finale (bilan)")),
        ],
    )
    evaluated_on = DateField(
        _l("Date de l'évaluation"), validators=[InputRequired(_l("Indiquez la date."))]
    )
    summary = TextAreaField(_l("Synthèse"), filters=[clean_text], validators=[Length(max=TEXT)])
