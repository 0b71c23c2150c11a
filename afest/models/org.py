"""Organisations (structures, OPCO, support bodies) and the cohorts that group them."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from .base import created_at_field, enum_type, public_id_field
from .enums import OrgKind


class OrganisationBase(SQLModel):
    name: str = Field(max_length=200)
    kind: OrgKind = Field(sa_type=enum_type(OrgKind), index=True)
    siret: str | None = Field(default=None, max_length=14)
    departement: str | None = Field(default=None, max_length=3, index=True)
    branch: str | None = Field(default=None, max_length=120)
    category: str | None = Field(default=None, max_length=60)  # EHPAD, SAAD, ESMS, hospital
    code: str | None = Field(default=None, max_length=40)  # short code of an OPCO / body


class Organisation(OrganisationBase, table=True):
    """A structure (employer), an OPCO, or a support body such as an Aract."""

    __table_args__ = (sa.UniqueConstraint("siret"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    # For a structure: the OPCO that funds its training.
    opco_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    created_at: datetime = created_at_field()


class CohortStructure(SQLModel, table=True):
    cohort_id: int = Field(foreign_key="cohort.id", primary_key=True)
    structure_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True)


class CohortConsultant(SQLModel, table=True):
    cohort_id: int = Field(foreign_key="cohort.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)


class Cohort(SQLModel, table=True):
    """A programme grouping structures and learners, followed by consultants."""

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    code: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    support_body_id: int | None = Field(default=None, foreign_key="organisation.id")
    funder_id: int | None = Field(default=None, foreign_key="organisation.id")
    starts_on: date | None = None
    ends_on: date | None = None
    created_at: datetime = created_at_field()

    structures: list["Organisation"] = Relationship(link_model=CohortStructure)
