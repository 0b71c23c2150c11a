"""The outbox's jobs: send what is due once the transaction that wrote it commits, and every
minute anyway (a retry's time has come, the consumer was down, a job was lost)."""

from __future__ import annotations

import logging

from flask import Flask, has_app_context
from huey import crontab
from sqlalchemy import event
from sqlmodel import Session

from afest.core.database import database
from afest.core.jobs import job
from afest.mail import sending
from afest.mail.outbox import ENQUEUED

log = logging.getLogger(__name__)


@job()
def send_outbox() -> int:
    """Send every due message; answer how many were handled. Enqueued after a commit that
    wrote one."""
    return sending.send_due(database())


@job(periodic=crontab(minute="*"))
def send_outbox_every_minute() -> None:
    handled = sending.send_due(database(), ahead=sending.PERIODIC_AHEAD)
    if handled:
        log.info("mail: %d messages handled", handled)


def _after_commit(session: Session) -> None:
    if not session.info.pop(ENQUEUED, False) or not has_app_context():
        return
    try:
        send_outbox()
    except Exception:  # noqa: BLE001 - the message is committed; the periodic job sends it
        log.exception("could not enqueue the sending of the outbox")


def _after_rollback(session: Session) -> None:
    # what was written is gone: nothing to send for it
    if not session.in_transaction():
        session.info.pop(ENQUEUED, None)


def init_app(app: Flask) -> None:
    """Ask for the sending job after every commit that wrote a message."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))
