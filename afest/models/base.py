"""Shared pieces of the tables: naming convention, public ids, UTC timestamps, enum columns."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Set before any table is declared, so that every constraint has a stable name that Alembic
# can find again on both engines.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Aware UTC now: every timestamp is stored and read back as UTC on both engines."""
    return datetime.now(UTC)


def new_public_id() -> str:
    """An unguessable identifier for URLs (96 random bits, URL-safe)."""
    return secrets.token_urlsafe(12)


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """A portable VARCHAR enum column storing the member values."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def public_id_field() -> str:
    return Field(default_factory=new_public_id, max_length=22, unique=True, index=True)


def created_at_field() -> datetime:
    return Field(default_factory=utcnow, nullable=False)


def index_when_set(name: str, column: str) -> sa.Index:
    """An index of the rows where `column` is not NULL: for a reference most rows leave
    empty (an amendment, a sequence or an evaluation as an assessment's source). Lookups by a
    value use it; inserting a row that leaves the column empty writes nothing to it."""
    when_set = sa.text(f"{column} IS NOT NULL")
    return sa.Index(name, column, postgresql_where=when_set, sqlite_where=when_set)
