"""Référentiels: certification → competence blocks → competences → criteria, and a level scale."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from .base import created_at_field, enum_type, public_id_field
from .enums import ReferentialKind

DEFAULT_LEVELS = (
    # (code, label, acquired)
    ("non_acquis", "Non acquis", False),
    ("en_cours", "En cours d'acquisition", False),
    ("acquis", "Acquis", True),
    ("maitrise", "Maîtrisé", True),
)


class Referential(SQLModel, table=True):
    """A certification (RNCP fiche) or a structure's own job référentiel.

    A revised fiche is a new row with the same code and the next `version`, pointing to the
    one it revises (`previous_id`): the old version stays as it was for the protocols that
    target it, new protocols take the newest.
    """

    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    code: str = Field(max_length=40, index=True)
    version: int = 1
    previous_id: int | None = Field(default=None, foreign_key="referential.id")
    title: str = Field(max_length=300)
    short: str = Field(default="", max_length=60)
    level: int | None = None  # certification level (3, 4, ...)
    kind: ReferentialKind = Field(sa_type=enum_type(ReferentialKind))
    owner_structure_id: int | None = Field(default=None, foreign_key="organisation.id")
    source: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = created_at_field()

    blocks: list["CompetenceBlock"] = Relationship(
        back_populates="referential",
        sa_relationship_kwargs={"order_by": "CompetenceBlock.position"},
    )
    levels: list["Level"] = Relationship(
        back_populates="referential", sa_relationship_kwargs={"order_by": "Level.rank"}
    )


class CompetenceBlock(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("referential_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    referential_id: int = Field(foreign_key="referential.id", index=True)
    code: str = Field(max_length=40)
    title: str = Field(sa_type=sa.Text)
    position: int = 0
    # How the block is assessed, as the register publishes it (MODALITES_EVALUATION).
    assessment_terms: str = Field(default="", sa_type=sa.Text)

    referential: "Referential" = Relationship(back_populates="blocks")
    competences: list["Competence"] = Relationship(
        back_populates="block", sa_relationship_kwargs={"order_by": "Competence.position"}
    )


class Competence(SQLModel, table=True):
    """A competence, or a mission in a structure's référentiel."""

    __table_args__ = (sa.UniqueConstraint("block_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    block_id: int = Field(foreign_key="competenceblock.id", index=True)
    code: str = Field(max_length=40)
    title: str = Field(sa_type=sa.Text)
    position: int = 0
    # True when the source lists no competences for the block: the block is assessed whole.
    whole_block: bool = False

    block: "CompetenceBlock" = Relationship(back_populates="competences")
    criteria: list["Criterion"] = Relationship(back_populates="competence")


class Criterion(SQLModel, table=True):
    """An optional observable criterion of a competence."""

    id: int | None = Field(default=None, primary_key=True)
    competence_id: int = Field(foreign_key="competence.id", index=True)
    text: str = Field(sa_type=sa.Text)
    position: int = 0

    competence: "Competence" = Relationship(back_populates="criteria")


class Level(SQLModel, table=True):
    """One step of a référentiel's level scale; `acquired` marks the steps that count as held."""

    __table_args__ = (sa.UniqueConstraint("referential_id", "rank"),)

    id: int | None = Field(default=None, primary_key=True)
    referential_id: int = Field(foreign_key="referential.id", index=True)
    rank: int
    code: str = Field(max_length=40)
    label: str = Field(max_length=120)
    acquired: bool = False

    referential: "Referential" = Relationship(back_populates="levels")
