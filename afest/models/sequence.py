"""Sequences: work situations and the reflexive sequences that analyse them."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from .base import created_at_field, enum_type, index_when_set, public_id_field
from .enums import Autonomy, SequenceKind


class SequenceCompetence(SQLModel, table=True):
    """A competence targeted (situation) or worked on (reflection) by a sequence."""

    sequence_id: int = Field(foreign_key="sequence.id", primary_key=True)
    competence_id: int = Field(foreign_key="competence.id", primary_key=True, index=True)


class ReflectionSituation(SQLModel, table=True):
    """Which situations a reflexive sequence analyses (condition 3)."""

    reflection_id: int = Field(foreign_key="sequence.id", primary_key=True)
    situation_id: int = Field(foreign_key="sequence.id", primary_key=True, index=True)


class SequenceBase(SQLModel):
    kind: SequenceKind = Field(sa_type=enum_type(SequenceKind))
    occurred_at: datetime  # UTC
    duration_minutes: int
    place: str = Field(default="", max_length=200)
    autonomy: Autonomy | None = Field(default=None, sa_type=enum_type(Autonomy))
    intent: str = Field(default="", sa_type=sa.Text)  # pedagogical intent announced
    observations: str = Field(default="", sa_type=sa.Text)
    expected: str = Field(default="", sa_type=sa.Text)  # attendus
    achieved: str = Field(default="", sa_type=sa.Text)  # réalisations
    learnt: str = Field(default="", sa_type=sa.Text)  # acquis
    gaps: str = Field(default="", sa_type=sa.Text)  # écarts
    learner_words: str = Field(default="", sa_type=sa.Text)
    next_step: str = Field(default="", sa_type=sa.Text)


class Sequence(SequenceBase, table=True):
    """A logged sequence. Once signed it is never edited: a correction is a new row that
    `amends` it, with who, when and why."""

    # a protocol's sequences are found through the first column of ix_sequence_protocol_occurred
    __table_args__ = (
        sa.Index("ix_sequence_protocol_occurred", "protocol_id", "occurred_at"),
        index_when_set("ix_sequence_amends_id", "amends_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    # Generated on the tablet: a repeated submission of the same entry creates one row.
    client_id: str = Field(max_length=64, unique=True)
    protocol_id: int = Field(foreign_key="protocol.id")
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()
    amends_id: int | None = Field(default=None, foreign_key="sequence.id")
    amendment_reason: str = Field(default="", sa_type=sa.Text)

    competences: list["SequenceCompetence"] = Relationship()


class SequenceAttachment(SQLModel, table=True):
    """A file attached to a sequence: a photo of the work done, a filled grid, a scan. It is
    part of the sequence's signed content (its SHA-256, type, size and name), so it is never
    changed either: a correction carries it over, or leaves it out, in its own rows. The bytes
    are kept by afest.core.storage under their SHA-256, once however many rows name them."""

    # a sequence's attachments are found through the first column of its unique constraint
    __table_args__ = (sa.UniqueConstraint("sequence_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    sequence_id: int = Field(foreign_key="sequence.id")
    position: int  # 1, 2, ... in the order they were attached
    filename: str = Field(max_length=120)
    media_type: str = Field(max_length=40)  # image/jpeg, image/png or application/pdf
    size: int
    sha256: str = Field(max_length=64, index=True)
    created_at: datetime = created_at_field()
