"""VAE pathways (France VAE milestones), their history, jury outcome and self-assessment."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, public_id_field
from .enums import BlockOutcome, JuryResult, SelfAssessment, VaeState


class VaePathway(SQLModel, table=True):
    """A learner's VAE towards a certification; `state` is the latest milestone."""

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    learner_id: int = Field(foreign_key="user.id", index=True)
    structure_id: int = Field(foreign_key="organisation.id", index=True)
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)
    referential_id: int = Field(foreign_key="referential.id")
    consultant_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    state: VaeState = Field(default=VaeState.PROJET, sa_type=enum_type(VaeState), index=True)
    jury_result: JuryResult | None = Field(default=None, sa_type=enum_type(JuryResult))
    created_at: datetime = created_at_field()


class VaeMilestone(SQLModel, table=True):
    """One dated step of a pathway, kept as history."""

    id: int | None = Field(default=None, primary_key=True)
    pathway_id: int = Field(foreign_key="vaepathway.id", index=True)
    state: VaeState = Field(sa_type=enum_type(VaeState))
    occurred_on: date
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = created_at_field()
    note: str = Field(default="", sa_type=sa.Text)
    reason: str = Field(default="", sa_type=sa.Text)
    jury_date: date | None = None
    jury_place: str = Field(default="", max_length=200)
    jury_result: JuryResult | None = Field(default=None, sa_type=enum_type(JuryResult))


class VaeBlockResult(SQLModel, table=True):
    """The jury's outcome for one competence block."""

    pathway_id: int = Field(foreign_key="vaepathway.id", primary_key=True)
    block_id: int = Field(foreign_key="competenceblock.id", primary_key=True)
    outcome: BlockOutcome = Field(sa_type=enum_type(BlockOutcome))
    milestone_id: int = Field(foreign_key="vaemilestone.id")


class FeasibilityAnswer(SQLModel, table=True):
    """Self-assessment per competence in the dossier de faisabilité (yes / partly / no)."""

    pathway_id: int = Field(foreign_key="vaepathway.id", primary_key=True)
    competence_id: int = Field(foreign_key="competence.id", primary_key=True)
    answer: SelfAssessment = Field(sa_type=enum_type(SelfAssessment))
    updated_at: datetime = created_at_field()
    note: str = Field(default="", sa_type=sa.Text)
