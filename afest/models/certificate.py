"""The certificat de réalisation of a protocol, as its dispensateur's signatory signed it.

In an in-house AFEST the employer is the dispensateur: its manager signs the certificate.
The row keeps what the certificate stated on that day (the learner, the employer, the
action, its dates and the hours certified, who signed and where), so that the signed
certificate prints the same after any later change; its signature (SignedKind.CERTIFICATE)
hashes that content. A certificate is never edited: when later signed sequences change the
hours, the manager signs a new one and the former stays.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from .base import created_at_field, public_id_field


class Certificate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    learner_name: str = Field(max_length=200)
    employer_name: str = Field(max_length=200)
    employer_siret: str | None = Field(default=None, max_length=14)
    title: str = Field(max_length=200)
    nature: str = Field(max_length=40)  # afest.proof.certificates.NATURE
    first_day: date
    last_day: date
    minutes: int  # minutes of the current sequences signed by the tutor and the learner
    dispensateur_name: str = Field(max_length=200)
    dispensateur_siret: str | None = Field(default=None, max_length=14)
    signatory_id: int = Field(foreign_key="user.id", index=True)
    signatory_name: str = Field(max_length=200)
    signatory_role: str = Field(max_length=120)  # her "qualité", as she typed it
    place: str = Field(max_length=120)  # "fait à"
    signed_on: date  # "le", in the structure's time zone
    created_at: datetime = created_at_field()
