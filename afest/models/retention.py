"""The purge window: while a row exists here, inside the purge's own transaction, the
append-only tables accept DELETE (never UPDATE). Nothing else ever writes this table."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .base import created_at_field


class PurgeWindow(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    opened_at: datetime = created_at_field()
    reason: str = Field(default="retention purge", max_length=200)
