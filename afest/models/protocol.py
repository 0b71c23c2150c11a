"""The individual training protocol: who, what is targeted, how and when."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from .base import created_at_field, enum_type, public_id_field
from .enums import ProtocolStatus, SequenceKind

if TYPE_CHECKING:
    from .account import User
    from .org import Organisation
    from .referential import Referential


class ProtocolBase(SQLModel):
    title: str = Field(max_length=200)  # action title, as on the certificat de réalisation
    objective: str = Field(default="", sa_type=sa.Text)
    # Condition 1 of D6313-3-2: analysis of the work activity and how it is adapted.
    activity_analysis: str = Field(default="", sa_type=sa.Text)
    work_situations: str = Field(default="", sa_type=sa.Text)
    planned_start: date
    planned_end: date
    planned_minutes: int = 0


class Protocol(ProtocolBase, table=True):
    """Protocole individuel de formation, signed by learner, tutor and structure."""

    # The API lists an OPCO's protocols page by page in (created_at, public_id) order.
    __table_args__ = (
        sa.Index("ix_protocol_funder_keyset", "funder_id", "created_at", "public_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    learner_id: int = Field(foreign_key="user.id", index=True)
    structure_id: int = Field(foreign_key="organisation.id", index=True)
    # The OPCO funding this protocol (the structure's OPCO when it was created).
    funder_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)
    referential_id: int = Field(foreign_key="referential.id", index=True)
    status: ProtocolStatus = Field(
        default=ProtocolStatus.DRAFT, sa_type=enum_type(ProtocolStatus), index=True
    )
    stop_reason: str = Field(default="", sa_type=sa.Text)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()

    learner: "User" = Relationship(
        sa_relationship_kwargs={"foreign_keys": "[Protocol.learner_id]", "lazy": "raise_on_sql"}
    )
    structure: "Organisation" = Relationship(
        sa_relationship_kwargs={"foreign_keys": "[Protocol.structure_id]", "lazy": "raise_on_sql"}
    )
    referential: "Referential" = Relationship(sa_relationship_kwargs={"lazy": "raise_on_sql"})
    tutors: list["ProtocolTutor"] = Relationship(back_populates="protocol")
    competences: list["ProtocolCompetence"] = Relationship(back_populates="protocol")
    plan: list["PlannedSequence"] = Relationship(
        back_populates="protocol", sa_relationship_kwargs={"order_by": "PlannedSequence.position"}
    )
    # The pause still open, if any (read only; loaded with selectinload by the lists that
    # show a "paused" badge).
    open_pause: Optional["ProtocolPause"] = Relationship(
        sa_relationship_kwargs={
            "primaryjoin": "and_(ProtocolPause.protocol_id == Protocol.id, "
            "ProtocolPause.resumed_at.is_(None))",
            "viewonly": True,
            "uselist": False,
            "lazy": "raise_on_sql",
        }
    )


class ProtocolTutor(SQLModel, table=True):
    """A tutor designated for a protocol; condition 2 wants this before the first sequence."""

    __table_args__ = (sa.UniqueConstraint("protocol_id", "tutor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    tutor_id: int = Field(foreign_key="user.id", index=True)
    designated_at: datetime
    designated_by_id: int = Field(foreign_key="user.id")
    ended_at: datetime | None = None

    protocol: "Protocol" = Relationship(back_populates="tutors")
    tutor: "User" = Relationship(
        sa_relationship_kwargs={"foreign_keys": "[ProtocolTutor.tutor_id]", "lazy": "raise_on_sql"}
    )


class ProtocolCompetence(SQLModel, table=True):
    """A targeted competence, with the wording as it was when the protocol was drawn up.

    The snapshot keeps a signed protocol readable and unchanged when its référentiel is edited.
    """

    __table_args__ = (sa.UniqueConstraint("protocol_id", "competence_id"),)

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    competence_id: int = Field(foreign_key="competence.id", index=True)
    block_id: int = Field(foreign_key="competenceblock.id", index=True)
    block_code: str = Field(max_length=40)
    block_title: str = Field(sa_type=sa.Text)
    competence_code: str = Field(max_length=40)
    competence_title: str = Field(sa_type=sa.Text)
    position: int = 0

    protocol: "Protocol" = Relationship(back_populates="competences")


class PlannedSequence(SQLModel, table=True):
    """A sequence planned in the protocol's schedule."""

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    kind: SequenceKind = Field(sa_type=enum_type(SequenceKind))
    planned_on: date
    title: str = Field(max_length=200)
    planned_minutes: int = 0
    position: int = 0

    protocol: "Protocol" = Relationship(back_populates="plan")


class ProtocolPause(SQLModel, table=True):
    """A protocol put on hold (the learner's sick leave, the tutor's absence), by its manager.

    While a pause is open (`resumed_at` is NULL) the protocol sends no reminder; every
    reflexive window that overlaps a pause is extended by the overlap.
    """

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    paused_from: datetime  # UTC; may be earlier than created_at (a leave declared late)
    planned_until: date | None = None  # expected return, for information
    reason: str = Field(sa_type=sa.Text)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()
    resumed_at: datetime | None = None  # UTC
    resumed_by_id: int | None = Field(default=None, foreign_key="user.id")
