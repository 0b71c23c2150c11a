"""Credentials a learner keeps: Open Badges 3.0 for validated blocks and completed AFEST."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, public_id_field


class IssuedCredential(SQLModel, table=True):
    """An OpenBadgeCredential issued once, signed as a JWT and kept as signed, so that every
    download gives the same bytes and a verifier can compare what it holds with what was
    issued. Revoking it (a fraud found) records who, when and why; it is never deleted.

    `kind` is "block" (a competence block validated: by a VAE jury, or by an AFEST's final
    evaluation reaching an acquired level on every competence of the block) or
    "participation" (a completed AFEST). `source_kind`/`source_id` name what proves it: the
    protocol or the VAE pathway."""

    __table_args__ = (
        sa.UniqueConstraint("learner_id", "kind", "source_kind", "source_id", "block_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    uuid: str = Field(max_length=36, unique=True)  # the credential's id: urn:uuid:<uuid>
    # a learner's credentials are found through the first column of the unique constraint
    learner_id: int = Field(foreign_key="user.id")
    issuer_id: int = Field(foreign_key="organisation.id", index=True)
    kind: str = Field(max_length=20)
    source_kind: str = Field(max_length=20)  # "protocol" | "vae"
    source_id: int
    block_code: str = Field(default="", max_length=40)  # "" for a participation
    title: str = Field(max_length=300)
    issued_at: datetime = created_at_field()
    issued_by_id: int = Field(foreign_key="user.id")
    jwt: str = Field(sa_type=sa.Text)
    revoked_at: datetime | None = None
    revoked_by_id: int | None = Field(default=None, foreign_key="user.id")
    revocation_reason: str = Field(default="", sa_type=sa.Text)
