"""Signatures and the append-only audit log: the proof an OPCO relies on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, public_id_field
from .enums import SignedKind, SignerRole


class Signature(SQLModel, table=True):
    """Who signed what, when, in which role, and the hash of the content they signed."""

    __table_args__ = (sa.UniqueConstraint("subject_kind", "subject_id", "signer_role"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    subject_kind: SignedKind = Field(sa_type=enum_type(SignedKind))
    subject_id: int = Field(index=True)
    signer_id: int = Field(foreign_key="user.id", index=True)
    signer_role: SignerRole = Field(sa_type=enum_type(SignerRole))
    signed_at: datetime = created_at_field()
    content_hash: str = Field(max_length=64)  # sha256 hex of the canonical content
    method: str = Field(default="password", max_length=20)  # password | pin


class AuditEntry(SQLModel, table=True):
    """One state change. Rows are only ever inserted (database triggers refuse the rest);
    entries of one protocol form a hash chain."""

    # The head of a chain (its last entry) is read before every append: protocol, then id.
    __table_args__ = (sa.Index("ix_auditentry_chain", "protocol_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    actor_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    action: str = Field(max_length=60)
    subject_kind: str = Field(max_length=40)
    subject_id: int | None = None
    protocol_id: int | None = None
    structure_id: int | None = Field(default=None, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(max_length=64)
