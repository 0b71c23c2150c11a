"""Retention of the outbox (GDPR): a message's bodies hold a person's name and links; once
RETENTION_MAIL_DAYS have passed since it was sent (or written, for one kept or failed) they
are emptied, and the row stays as the trace that a message went out. Messages waiting or
being sent are never touched. An account that is anonymised loses its messages altogether.

Called by the nightly purge (afest.accounts.retention).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, delete, select, update

from afest.models import MailState, OutboxMessage

OVER = (MailState.SENT, MailState.KEPT, MailState.FAILED)


def _past(settings, now: datetime):
    cutoff = now - timedelta(days=settings["RETENTION_MAIL_DAYS"])
    return sa.and_(
        OutboxMessage.purged_at.is_(None),
        OutboxMessage.state.in_(OVER),
        sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < cutoff,
    )


def count_past(session: Session, *, settings, now: datetime) -> int:
    """How many messages' bodies a purge at `now` would empty."""
    return session.exec(
        select(sa.func.count()).select_from(OutboxMessage).where(_past(settings, now))
    ).one()


def empty_bodies(session: Session, *, settings, now: datetime) -> int:
    """Empty the bodies of the messages past retention; answer how many."""
    result = session.exec(
        update(OutboxMessage)
        .where(_past(settings, now))
        .values(body_text="", body_html="", purged_at=now)
    )
    return result.rowcount


def forget_accounts(session: Session, user_ids: Iterable[int]) -> None:
    """Delete every message to accounts being anonymised (their address is in them)."""
    ids = list(user_ids)
    if ids:
        session.exec(delete(OutboxMessage).where(OutboxMessage.user_id.in_(ids)))
