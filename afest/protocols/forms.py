"""WTForms of the protocol screens: the draft, its plan, the three signatures, stopping it,
pausing and resuming it."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from afest.core import clock
from afest.core.forms import CheckboxesField, Form, SaneDate, clean_text, strip
from afest.core.http import SIGNER_LABELS
from afest.models import SequenceKind, SignerRole

TEXT = 10_000


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
        _l("Début prévu"),
        validators=[InputRequired(_l("Indiquez la date de début.")), SaneDate()],
    )
    planned_end = DateField(
        _l("Fin prévue"), validators=[InputRequired(_l("Indiquez la date de fin.")), SaneDate()]
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
    """One planned sequence. Its fields are prefixed ("plan-title"), as the draft's form on the
    same page has a title too."""

    kind = SelectField(
        _l("Type de séquence"),
        choices=[
            SelectChoice("situation", _l("Mise en situation")),
            SelectChoice("reflection", _l("Séquence réflexive")),
        ],
    )
    planned_on = DateField(
        _l("Date prévue"), validators=[InputRequired(_l("Indiquez la date.")), SaneDate()]
    )
    title = StringField(
        _l("Intitulé"),
        filters=[strip],
        validators=[DataRequired(_l("Indiquez un intitulé.")), Length(max=200)],
    )
    minutes = IntegerField(
        _l("Durée prévue (minutes)"),
        validators=[InputRequired(), NumberRange(min=1, max=720, message=_l("De 1 à 720 min."))],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "plan")
        super().__init__(*args, **kwargs)

    def plan(self) -> dict:
        """The arguments of protocols.add_planned_sequences, as entered: one planned sequence."""
        kind = SequenceKind(self.kind.data)
        return {"items": [(kind, self.planned_on.data, self.title.data, self.minutes.data)]}


class SignForm(Form):
    role = SelectField(_l("Je signe en tant que"))
    password = PasswordField(
        _l("Mot de passe (pour confirmer votre signature)"),
        validators=[DataRequired(_l("Indiquez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )

    def offer(self, roles: Iterable[SignerRole]) -> None:
        """The roles the signer may choose from."""
        self.role.choices = [(str(r), str(SIGNER_LABELS[r])) for r in roles]

    def signature(self) -> dict:
        """The role and method of a signature confirmed by typing one's password again."""
        return {"role": SignerRole(self.role.data), "method": "password"}


class StopForm(Form):
    reason = TextAreaField(
        _l("Motif de l'arrêt"),
        filters=[clean_text],
        validators=[DataRequired(_l("Indiquez le motif de l'arrêt.")), Length(max=2000)],
    )


class PauseForm(Form):
    """A pause: from which day, until when (expected), why. Its fields are prefixed
    ("pause-reason"), as the stop form on the same page has a reason too."""

    paused_from = DateField(
        _l("En pause à partir du"),
        default=clock.today,
        validators=[InputRequired(_l("Indiquez le premier jour de la pause.")), SaneDate()],
    )
    planned_until = DateField(
        _l("Reprise prévue le (facultatif)"), validators=[Optional(), SaneDate()]
    )
    reason = TextAreaField(
        _l("Motif de la pause"),
        filters=[clean_text],
        validators=[DataRequired(_l("Indiquez le motif de la pause.")), Length(max=2000)],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "pause")
        super().__init__(*args, **kwargs)

    def pause(self) -> dict:
        """The arguments of pausing.pause, as entered."""
        return {
            "paused_from": self.paused_from.data,
            "planned_until": self.planned_until.data,
            "reason": self.reason.data,
        }


class ResumeForm(Form):
    resumed_on = DateField(
        _l("Reprise le"),
        default=clock.today,
        validators=[InputRequired(_l("Indiquez le jour de la reprise.")), SaneDate()],
    )
