"""Shared pieces of the tables: naming convention, public ids, UTC timestamps, enum columns."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


# The moment writes record instead of the clock's, while `writing_at` holds one: the demo
# writes its story in the past through the very operations, so that each signature and each
# audit entry is dated when it happened in that story (rows are append-only: they cannot be
# re-dated after). No request path sets it.
_WRITING_AT: ContextVar[datetime | None] = ContextVar("afest_writing_at", default=None)


def utcnow() -> datetime:
    """Aware UTC now: every timestamp is stored and read back as UTC on both engines."""
    fixed = _WRITING_AT.get()
    return datetime.now(UTC) if fixed is None else fixed


@contextmanager
def writing_at(when: datetime) -> Iterator[None]:
    """Within the block, utcnow() answers `when` (aware, not in the future)."""
    if when.tzinfo is None:
        raise ValueError("writing_at needs an aware datetime")
    when = when.astimezone(UTC)
    if when > datetime.now(UTC):
        raise ValueError("writing_at cannot date a write in the future")
    token = _WRITING_AT.set(when)
    try:
        yield
    finally:
        _WRITING_AT.reset(token)


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
