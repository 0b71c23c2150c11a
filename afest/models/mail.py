"""The outbox: every e-mail afest sends, written in the transaction of the change that causes
it, then sent by a job (afest.mail.sending).

One row per event and recipient (unique): an event enqueued twice for the same address is one
message. A message goes pending → sending (claimed, committed before the SMTP conversation) →
sent; on a temporary failure back to pending with a later `next_attempt_at`, and failed after
the last attempt. With no SMTP server configured it is kept (shown in the admin page and the
console, never sent). A message left sending (a crash between the server's answer and the
mark) is never sent again by itself: the admin checks it.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, public_id_field


class MailState(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a job: being sent, or left by a crash (to check)
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # refused for good, or every attempt failed
    KEPT = "kept"  # no SMTP server configured: kept here, never sent


class OutboxMessage(SQLModel, table=True):
    """One e-mail to one recipient for one event."""

    __table_args__ = (
        sa.UniqueConstraint("event_key", "to_address", name="uq_outboxmessage_event_key"),
        # what the sending job looks for: the due pending messages
        sa.Index("ix_outboxmessage_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    event_key: str = Field(max_length=200)
    to_address: str = Field(max_length=254)  # lower case
    to_name: str = Field(default="", max_length=200)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    locale: str = Field(max_length=5)
    template: str = Field(max_length=100)
    message_id: str = Field(max_length=250, unique=True)
    subject: str = Field(max_length=300)
    body_text: str = Field(default="", sa_type=sa.Text)
    body_html: str = Field(default="", sa_type=sa.Text)
    state: MailState = Field(default=MailState.PENDING, sa_type=enum_type(MailState))
    attempts: int = 0
    next_attempt_at: datetime = created_at_field()
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = created_at_field()
    # set when retention emptied the bodies (afest.mail.retention)
    purged_at: datetime | None = None
