"""The dashboards' jobs: fold the protocols that saves marked into the rollups.

A save only marks its protocol (afest.dashboards.rollups.mark). Once the transaction that
marked commits, `settle_rollups` is enqueued to run ROLLUP_SETTLE_SECONDS later (once per
such interval and process, so that the saves of a moment are folded in together), and it
runs every minute anyway. A dashboard read that finds marks left asks for a settle and waits
for it (afest.blueprints.dashboards), so its figures include every save made before it.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, has_app_context
from huey import crontab
from huey.exceptions import ResultTimeout
from sqlalchemy import event
from sqlmodel import Session

from afest.core.database import database
from afest.core.jobs import job
from afest.dashboards import rollups

log = logging.getLogger(__name__)
EXTENSION_KEY = "afest.settle_after_saves"


@job()
def settle_rollups() -> int:
    """Settle every marked protocol; return how many. Enqueued when there are marks: after a
    commit that marked, or by a dashboard read that found some."""
    return rollups.settle(database(), known_pending=True)


@job(periodic=crontab(minute="*"))
def settle_rollups_every_minute() -> None:
    settled = rollups.settle(database())
    if settled:
        log.info("rollups: %d protocols settled", settled)


class _AfterSaves:
    """Enqueue one delayed settle per interval, whatever the number of saves in it."""

    def __init__(self, delay: float):
        self.delay = delay
        self.last = float("-inf")

    def saved(self) -> None:
        now = time.monotonic()
        if now - self.last >= self.delay:
            self.last = now
            settle_rollups.schedule(delay=self.delay)


def _after_commit(session: Session) -> None:
    if not session.info.pop(rollups.MARKED, False) or not has_app_context():
        return
    after_saves = current_app.extensions.get(EXTENSION_KEY)
    if after_saves is not None:
        try:
            after_saves.saved()
        except Exception:  # noqa: BLE001 - the save is committed; the next read settles
            log.exception("could not enqueue the rollups' settling")


def init_app(app: Flask) -> None:
    """Enqueue settling after saves, unless switched off (ROLLUP_SETTLE_SECONDS = 0, tests)."""
    delay = app.config["ROLLUP_SETTLE_SECONDS"]
    if delay <= 0 or app.config.get("TESTING") or app.config["ENV"] == "testing":
        return
    app.extensions[EXTENSION_KEY] = _AfterSaves(delay)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)


def wait_until_settled(session: Session, timeout: float) -> int:
    """If saves left marks, have the queue settle them and wait for it, `timeout` seconds at
    most; return how many protocols are still marked then (0: the figures include every
    save made before). `session`: the reader's; its transaction ends here, so that what it
    reads next sees the settled rollups."""
    pending = rollups.is_pending(session)
    session.commit()
    if not pending:
        return 0
    try:
        settle_rollups()(blocking=True, timeout=timeout)
        return 0
    except ResultTimeout:
        behind = rollups.marked_count(session)
        session.commit()
        if behind:
            log.info("rollups: %d protocols not settled within %.2f s", behind, timeout)
        return behind
