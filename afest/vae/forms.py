"""WTForms of the VAE pathway: recording a milestone, the feasibility self-assessment."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlmodel import Session
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from afest.core.forms import Form, SaneDate, strip
from afest.models import (
    BlockOutcome,
    CompetenceBlock,
    JuryResult,
    SelfAssessment,
    VaePathway,
    VaeState,
)
from afest.vae import queries
from afest.vae.states import ANSWER_LABELS, JURY_LABELS, OUTCOME_LABELS, STATE_LABELS


def _chosen(value: str | None) -> str | None:
    """A choice as posted, or None when blank: Optional() lets a value of spaces only past
    the check of the choices, so it must read as no choice."""
    return value if value and value.strip() else None


class MilestoneForm(Form):
    # where a refusal is shown when the rule names no field of the form (perform's aliases):
    # the blocks' outcomes go with the jury's result
    refusal_fields = {"block_outcomes": "jury_result"}

    state = SelectField(
        _l("Nouvelle étape"), validators=[DataRequired(_l("Choisissez l'étape."))], choices=[]
    )
    occurred_on = DateField(
        _l("Date de l'étape"),
        # a day to come is refused by the operation, with its tolerance (vae.states)
        validators=[DataRequired(_l("Indiquez une date valide.")), SaneDate()],
    )
    reason = TextAreaField(
        _l("Motif"),
        filters=[strip],
        validators=[Optional(), Length(max=5000, message=_l("Texte trop long."))],
    )
    note = TextAreaField(
        _l("Note"),
        filters=[strip],
        validators=[Optional(), Length(max=5000, message=_l("Texte trop long."))],
    )
    jury_date = DateField(_l("Date du jury"), validators=[Optional(), SaneDate()])
    jury_place = StringField(
        _l("Lieu du jury"),
        filters=[strip],
        validators=[Optional(), Length(max=200, message=_l("Texte trop long."))],
    )
    jury_result = SelectField(
        _l("Résultat du jury"),
        choices=[
            SelectChoice("", "—"),
            *(SelectChoice(r.value, JURY_LABELS[r]) for r in JuryResult),
        ],
        validators=[Optional()],
    )

    def block_fields(self):
        return [f for f in self if f.name.startswith("block_")]

    def outcomes(self) -> dict[int, BlockOutcome]:
        return {
            int(f.name.removeprefix("block_")): BlockOutcome(f.data)
            for f in self.block_fields()
            if _chosen(f.data)
        }

    def milestone(self) -> dict:
        """The arguments of vae.record_milestone, as entered."""
        return {
            "state": self.state.data,
            "occurred_on": self.occurred_on.data,
            "note": self.note.data or "",
            "reason": self.reason.data or "",
            "jury_date": self.jury_date.data,
            "jury_place": self.jury_place.data or "",
            "jury_result": _chosen(self.jury_result.data),
            "block_outcomes": self.outcomes(),
        }


def milestone_form(
    states: Iterable[VaeState], blocks: Iterable[CompetenceBlock], **kwargs
) -> MilestoneForm:
    """The form for the milestones allowed now, with one outcome field per block."""

    class BlocksMilestoneForm(MilestoneForm):
        pass

    choices = [
        SelectChoice("", "—"),
        *(SelectChoice(o.value, OUTCOME_LABELS[o]) for o in BlockOutcome),
    ]
    for block in blocks:
        setattr(
            BlocksMilestoneForm,
            f"block_{block.id}",
            SelectField(f"{block.code} — {block.title}", choices=choices, validators=[Optional()]),
        )
    form = BlocksMilestoneForm(**kwargs)
    form.state.choices = [SelectChoice(s.value, STATE_LABELS[s]) for s in states]
    return form


def pathway_milestone_form(session: Session, pathway: VaePathway, **kwargs) -> MilestoneForm:
    """The milestone form of a pathway as it stands: the milestones it may record now, an
    outcome field per block of its certification."""
    blocks = queries.blocks_of(session, pathway.referential_id)
    return milestone_form(queries.next_states(pathway), blocks, **kwargs)


def feasibility_form(competence_ids: Iterable[int], **kwargs) -> Form:
    """One yes / partly / no choice per competence of the certification."""

    class FeasibilityForm(Form):
        def answers(self) -> dict[int, SelfAssessment | None]:
            """{competence id: the answer, or None when left blank}."""
            return {
                int(f.name.removeprefix("c_")): SelfAssessment(f.data) if _chosen(f.data) else None
                for f in self
                if f.name.startswith("c_")
            }

    choices = [SelectChoice(a.value, ANSWER_LABELS[a]) for a in SelfAssessment]
    for competence_id in competence_ids:
        setattr(
            FeasibilityForm,
            f"c_{competence_id}",
            RadioField(str(competence_id), choices=choices, validators=[Optional()]),
        )
    return FeasibilityForm(**kwargs)
