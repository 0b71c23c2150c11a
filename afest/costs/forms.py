"""WTForms of the costs: an hourly cost and its end, another cost of a protocol, the tutor's
time on an evaluation, the period of a statement. Amounts are typed in euros as in France
("18,50"), kept in cents."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, IntegerField, SelectField, StringField
from wtforms import Form as PlainForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from afest.core.controls import single_line
from afest.core.forms import Form, NoControlCharacters, SaneDate, record_id, strip
from afest.costs import money
from afest.costs.labels import DEFAULT_LABELS, KIND_LABELS
from afest.costs.operations import LABEL_MAX, MAX_EVALUATION_MINUTES, VOUCHER_MAX
from afest.models import CostRole, OtherCostKind, User
from afest.proof.expenses import Period


class EurosField(Field):
    """An amount in euros typed as in France — "18,50", "18.50", "1 234,5", "18 €" — whose
    data is its cents; what was typed is shown again beside a message (without control
    characters: an amount holding one is no amount)."""

    widget = TextInput()
    message = _l("Un montant en euros, par exemple 18,50.")

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        try:
            self.data = money.parse_cents(valuelist[0])
        except ValueError:
            raise ValueError(self.message) from None

    def _value(self) -> str:
        if self.raw_data and (self.process_errors or self.errors):
            return single_line(self.raw_data[0])
        return money.typed(self.data) if isinstance(self.data, int) else ""


def _default(role: CostRole) -> str:
    return f"default:{role}"


class HourlyCostForm(Form):
    """An hourly cost: whose (a person, or a default), how much, from when, until when."""

    who = SelectField(_l("Pour qui"))
    cents_per_hour = EurosField(
        _l("Coût horaire chargé (€ de l'heure)"),
        validators=[InputRequired(_l("Indiquez le coût d'une heure, par exemple 18,50."))],
    )
    valid_from = DateField(
        _l("Valable à partir du"),
        validators=[InputRequired(_l("Indiquez le premier jour de validité.")), SaneDate()],
    )
    valid_to = DateField(_l("Jusqu'au (facultatif)"), validators=[Optional(), SaneDate()])

    def offer(self, people: list[User]) -> None:
        """The defaults, then the structure's learners and tutors."""
        defaults = [SelectChoice(_default(role), label) for role, label in DEFAULT_LABELS.items()]
        self.who.choices = defaults + [SelectChoice(p.public_id, p.full_name) for p in people]
        self.people = {p.public_id: p.id for p in people}

    def cost(self) -> dict:
        """The arguments of costs.add_hourly_cost, as entered."""
        role, user_id = None, None
        if self.who.data.startswith("default:"):
            role = CostRole(self.who.data.removeprefix("default:"))
        else:
            user_id = self.people[self.who.data]
        return {
            "user_id": user_id,
            "role": role,
            "valid_from": self.valid_from.data,
            "valid_to": self.valid_to.data,
            "cents_per_hour": self.cents_per_hour.data,
        }


class EndCostForm(Form):
    """The last day of an hourly cost; prefixed with the cost's public id, as each cost of
    the list has its own."""

    valid_to = DateField(
        _l("Dernier jour de validité"),
        validators=[InputRequired(_l("Indiquez le dernier jour de validité.")), SaneDate()],
    )


class OtherCostForm(Form):
    kind = SelectField(
        _l("Nature"), choices=[SelectChoice(str(k), label) for k, label in KIND_LABELS.items()]
    )
    label = StringField(
        _l("Libellé"),
        filters=[strip],
        validators=[
            DataRequired(_l("Indiquez ce que couvre ce coût.")),
            Length(max=LABEL_MAX, message=_l("200 caractères au plus.")),
        ],
    )
    amount_cents = EurosField(
        _l("Montant (€)"),
        validators=[InputRequired(_l("Indiquez le montant, par exemple 350,00."))],
    )
    spent_on = DateField(
        _l("Date de la dépense"),
        validators=[InputRequired(_l("Indiquez la date de la dépense.")), SaneDate(past=True)],
    )
    voucher = StringField(
        _l("Pièce justificative (n° de facture ou d'écriture, facultatif)"),
        filters=[strip],
        validators=[Length(max=VOUCHER_MAX, message=_l("100 caractères au plus."))],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "cout")
        super().__init__(*args, **kwargs)

    def cost(self) -> dict:
        """The arguments of costs.add_other_cost, as entered."""
        return {
            "kind": OtherCostKind(self.kind.data),
            "label": self.label.data,
            "amount_cents": self.amount_cents.data,
            "spent_on": self.spent_on.data,
            "voucher": self.voucher.data or "",
        }


class EvaluationTimeForm(Form):
    evaluation = SelectField(_l("Évaluation"), coerce=record_id, validate_choice=True)
    minutes = IntegerField(
        _l("Temps du·de la tuteur·rice (minutes)"),
        validators=[
            InputRequired(_l("Indiquez la durée en minutes.")),
            NumberRange(min=1, max=MAX_EVALUATION_MINUTES, message=_l("De 1 à 720 minutes.")),
        ],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "evaluation")
        super().__init__(*args, **kwargs)

    def declared(self) -> dict:
        """The arguments of costs.declare_evaluation_time, as entered."""
        return {"evaluation_id": self.evaluation.data, "minutes": self.minutes.data}


class PeriodForm(NoControlCharacters, PlainForm):
    """The period of a structure's statement, read from the query string (no CSRF token)."""

    du = DateField(_l("Du"), validators=[Optional(), SaneDate()])
    au = DateField(_l("Au"), validators=[Optional(), SaneDate()])

    def period(self, default: Period) -> Period | None:
        """The period asked for (the default where a day is left empty), or None with a
        message beside the bad field."""
        if not self.validate():
            return None
        start, end = self.du.data or default.start, self.au.data or default.end
        if end < start:
            self.au.errors = [_l("La fin de la période précède son début.")]
            return None
        self.du.data, self.au.data = start, end  # the fields show the period shown
        return Period(start, end)
