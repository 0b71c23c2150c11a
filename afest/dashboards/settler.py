"""Settling the dashboard rollups in the background, shortly after saves.

A save only marks its protocol (afest/services/rollups.py). The dashboards settle whatever is
marked before they read, so their figures are always current; this keeps that backlog small
so that a dashboard read never has a day of saves to fold in. Each process has one daemon
thread, started on the first save it sees (after gunicorn has forked the worker): once poked
it waits ROLLUP_SETTLE_SECONDS, so that the saves of that moment are folded in together, then
settles in transactions of its own. A process that dies with marks left loses nothing: the
marks are rows, settled by the next reader or the next poke of any process.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlmodel import Session

from afest.core.database import database
from afest.dashboards import rollups

EXTENSION_KEY = "afest.dashboards.settler"
log = logging.getLogger(__name__)


class Settler:
    def __init__(self, app: Flask, delay: float):
        self.app, self.delay = app, delay
        self._wake = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self.settled = 0  # protocols settled by this process (for tests and logs)

    def poke(self) -> None:
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="rollup-settler", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.delay)  # let the saves of this moment arrive
            try:
                self.settled += rollups.settle(database(self.app))
            except Exception:  # noqa: BLE001 - the next poke or reader settles instead
                log.exception("settling the dashboard rollups failed; retried on next save")


def _after_commit(session: Session) -> None:
    if not session.info.pop(rollups.MARKED, False) or not has_app_context():
        return
    settler = current_app.extensions.get(EXTENSION_KEY)
    if settler is not None:
        settler.poke()


def init_app(app: Flask) -> None:
    """Settle in the background unless switched off (ROLLUP_SETTLE_SECONDS = 0, or tests)."""
    delay = app.config["ROLLUP_SETTLE_SECONDS"]
    if delay <= 0 or app.config.get("TESTING") or app.config["ENV"] == "testing":
        return
    app.extensions[EXTENSION_KEY] = Settler(app, delay)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
