"""What an in-house AFEST costs its employer, for the statement of expenses an OPCO checks
after the fact: the hourly cost of the structure's people (or its default for learners and
for tutors) over periods of validity, the other costs of a protocol, and the time a tutor
spent on an evaluation, which the evaluation itself does not record. Money is in integer
cents."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, public_id_field


class CostRole(enum.StrEnum):
    """Whose hours a cost prices: the learner's or the tutor's."""

    LEARNER = "learner"
    TUTOR = "tutor"


class OtherCostKind(enum.StrEnum):
    TUTOR_TRAINING = "tutor_training"  # the tutor's own training
    EXTERNAL_SUPPORT = "external_support"  # an outside consultant, an AFEST adviser
    PEDAGOGICAL = "pedagogical"  # materials, documentation, a training room
    OTHER = "other"


class HourlyCost(SQLModel, table=True):
    """The loaded salary cost of one hour of a person of the structure (`user_id`), or the
    structure's default for its learners or its tutors (`role`, no person), from `valid_from`
    to `valid_to` included (open when NULL). The periods of one person, or of one default,
    do not overlap (afest.costs.operations)."""

    __table_args__ = (
        sa.CheckConstraint("cents_per_hour > 0", name="cents_positive"),
        sa.CheckConstraint("(user_id IS NULL) <> (role IS NULL)", name="person_or_default"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period_ordered"),
        sa.Index("ix_hourlycost_structure_user", "structure_id", "user_id", "valid_from"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    structure_id: int = Field(foreign_key="organisation.id")
    user_id: int | None = Field(default=None, foreign_key="user.id")
    role: CostRole | None = Field(default=None, sa_type=enum_type(CostRole))
    valid_from: date
    valid_to: date | None = None
    cents_per_hour: int
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()


class OtherCost(SQLModel, table=True):
    """A cost of a protocol that is not hours of its learner or tutor: the tutor's training,
    an outside help, materials; with the reference of its accounting proof."""

    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    kind: OtherCostKind = Field(sa_type=enum_type(OtherCostKind))
    label: str = Field(max_length=200)
    amount_cents: int
    spent_on: date
    voucher: str = Field(default="", max_length=100)  # invoice or accounting entry number
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()


class EvaluationTime(SQLModel, table=True):
    """How long the tutor spent on an evaluation, as the employer declares it: an evaluation
    records its day, not its duration. One row per evaluation, replaced when declared again.
    It names its protocol, so that purging the protocol removes it with its evaluations."""

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", unique=True)
    minutes: int
    declared_by_id: int = Field(foreign_key="user.id")
    declared_at: datetime = created_at_field()
