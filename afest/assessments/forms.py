"""WTForms of the assessments: the levels posted per competence (a reflexive sequence, the
initial positioning, an evaluation), the evaluation form."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from wtforms import DateField, PasswordField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from afest.core import clock
from afest.core.forms import Form, SaneDate, clean_text, record_id
from afest.core.http import SIGNER_LABELS
from afest.models import EvaluationKind, SignerRole
from afest.sequences import signing

TEXT = 10_000

LEVEL_PREFIX = "level-"


def posted_levels(formdata: Mapping[str, str]) -> dict[int, int]:
    """{competence id: level id} from the `level-<competence id>` = level id fields that were
    given a value; anything that is not an id of ours raises ValueError. Whether the levels
    belong to the protocol's scale and scope is the operation's rule (check_levels)."""
    levels: dict[int, int] = {}
    for key in formdata:
        value = formdata.get(key)
        if key.startswith(LEVEL_PREFIX) and value:
            levels[record_id(key[len(LEVEL_PREFIX) :])] = record_id(value)
    return levels


class LevelsMixin:
    """A form that posts a level per competence, as one radio group each named
    level-<competence id>: the competences depend on the protocol, so the levels are read from
    the posted data as a whole into `levels`. `levels_required`: at least one."""

    levels_required = False

    def process(self, formdata=None, *args, **kwargs) -> None:
        super().process(formdata, *args, **kwargs)
        formdata = self.meta.wrap_formdata(self, formdata)  # as the fields were given it
        self.levels: dict[int, int] = {}
        self._unknown_level = False
        if formdata:
            try:
                self.levels = posted_levels(formdata)
            except ValueError:
                self._unknown_level = True

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self._unknown_level:
            self.form_errors.append(_l("Niveau inconnu pour ce référentiel."))
            return False
        if self.levels_required and not self.levels:
            self.form_errors.append(_l("Indiquez au moins un niveau."))
            return False
        return valid


class PositioningForm(LevelsMixin, Form):
    """The initial positioning of a draft: the level held on each targeted competence."""

    levels_required = True


def issued_id(value: object) -> str:
    """The id a form was issued with (a repeated submission records one row), else a new one."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{8,64}", value):
        return value
    return secrets.token_hex(16)


class EvaluationForm(LevelsMixin, Form):
    """An evaluation, under the client id the form was issued with (`client_id`: the posted
    one, or a new one for a blank form)."""

    levels_required = True

    kind = SelectField(
        _l("Type d'évaluation"),
        choices=[
            SelectChoice("intermediate", _l("Intermédiaire")),
            SelectChoice("final", _l("Finale (bilan)")),
        ],
    )
    evaluated_on = DateField(
        _l("Date de l'évaluation"),
        default=clock.today,  # an evaluation is written on the day, most often
        # an evaluation tells what was seen: never of a day still to come
        validators=[InputRequired(_l("Indiquez la date.")), SaneDate(past=True)],
    )
    summary = TextAreaField(_l("Synthèse"), filters=[clean_text], validators=[Length(max=TEXT)])

    def process(self, formdata=None, *args, **kwargs) -> None:
        super().process(formdata, *args, **kwargs)
        formdata = self.meta.wrap_formdata(self, formdata)
        posted = formdata.getlist("client_id") if formdata else []
        self.client_id = issued_id(next((v for v in posted if isinstance(v, str)), None))

    def evaluation(self) -> dict:
        """The arguments of evaluations.create_evaluation, as entered."""
        return {
            "client_id": self.client_id,
            "kind": EvaluationKind(self.kind.data),
            "evaluated_on": self.evaluated_on.data,
            "summary": self.summary.data or "",
            "levels": self.levels,
        }


class EvaluationSignForm(signing.ConfirmsSecret, Form):
    """The tutor signs an evaluation with her tablet PIN or her password, as she signs a
    sequence; the learner countersigns with her password."""

    role = SelectField(_l("Je signe en tant que"))
    secret = PasswordField(
        _l("Votre code PIN ou mot de passe"),
        validators=[DataRequired(_l("Tapez votre code PIN ou votre mot de passe."))],
        render_kw={"autocomplete": "off"},
    )

    def offer(self, roles: Iterable[SignerRole]) -> None:
        """The roles the signer may choose from."""
        self.role.choices = [(str(r), str(SIGNER_LABELS[r])) for r in roles]

    @property
    def allow_pin(self) -> bool:
        """The PIN counts only in the tutor's role (ConfirmsSecret.confirmed)."""
        return self.role.data == SignerRole.TUTOR.value

    def signature(self, method: str) -> dict:
        """The arguments of evaluations.sign_evaluation."""
        return {"role": SignerRole(self.role.data), "method": method}
