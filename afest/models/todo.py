"""What is sent to people about what waits for them: reminder digests and calendar feeds."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field


class ReminderDigest(SQLModel, table=True):
    """The one reminder message a person was sent for one period (a day "2026-12-02" or an
    ISO week "2026-W49"): the unique key is what makes a digest go out once per period, and
    `items` keeps the keys of what it announced."""

    __table_args__ = (sa.UniqueConstraint("user_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    period: str = Field(max_length=12)
    items: list[Any] = Field(default_factory=list, sa_type=sa.JSON)
    message_id: int | None = Field(default=None, foreign_key="outboxmessage.id")
    created_at: datetime = created_at_field()


class CalendarFeed(SQLModel, table=True):
    """A person's private iCalendar address. The URL carries a random secret; only its
    SHA-256 is stored. Renewing revokes the previous address."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = None
    last_read_at: datetime | None = None
