"""Competence levels over time, and the evaluations (intermediate, final bilan)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, index_when_set, public_id_field
from .enums import AssessmentSource, EvaluationKind


class Evaluation(SQLModel, table=True):
    """An intermediate or final evaluation (condition 4); the final one carries the bilan."""

    __table_args__ = (index_when_set("ix_evaluation_amends_id", "amends_id"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    client_id: str = Field(max_length=64, unique=True)
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    kind: EvaluationKind = Field(sa_type=enum_type(EvaluationKind))
    evaluated_on: date
    summary: str = Field(default="", sa_type=sa.Text)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()
    amends_id: int | None = Field(default=None, foreign_key="evaluation.id")
    amendment_reason: str = Field(default="", sa_type=sa.Text)


class CompetenceAssessment(SQLModel, table=True):
    """The level of one competence for one protocol at one time, and where it was set."""

    # a protocol's assessments are found through the first column of the first index
    __table_args__ = (
        sa.Index(
            "ix_assessment_protocol_competence", "protocol_id", "competence_id", "assessed_at"
        ),
        index_when_set("ix_competenceassessment_sequence_id", "sequence_id"),
        index_when_set("ix_competenceassessment_evaluation_id", "evaluation_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: int = Field(foreign_key="protocol.id")
    competence_id: int = Field(foreign_key="competence.id", index=True)
    level_id: int = Field(foreign_key="level.id")
    source: AssessmentSource = Field(sa_type=enum_type(AssessmentSource))
    sequence_id: int | None = Field(default=None, foreign_key="sequence.id")
    evaluation_id: int | None = Field(default=None, foreign_key="evaluation.id")
    assessed_at: datetime = created_at_field()
    assessed_by_id: int = Field(foreign_key="user.id")
    comment: str = Field(default="", sa_type=sa.Text)
