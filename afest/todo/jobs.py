"""The reminders' job: every morning at 07:00 in the platform's TIMEZONE, the digests due
that day are written to the outbox (afest.todo.digests.run), which sends them.

huey's periodic clock is UTC (the queue is made with huey's default utc=True, and the other
periodic jobs are written in UTC): `local_time` matches a time of TIMEZONE instead, so the
digests leave at 07:00 in Paris in winter and in summer alike.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from afest.core.database import database
from afest.core.jobs import job
from afest.core.settings import load_settings
from afest.models import utcnow
from afest.todo import digests

log = logging.getLogger(__name__)

MORNING = (7, 0)  # hour, minute in TIMEZONE


@functools.cache
def _zone() -> ZoneInfo:
    # read once in the consumer, outside any app context: the settings the app is made from
    return ZoneInfo(load_settings()["TIMEZONE"])


def local_time(hour: int, minute: int, zone: Callable[[], ZoneInfo] = _zone) -> Callable:
    """A huey schedule: true at `hour`:`minute` in `zone`, for huey's naive UTC timestamps."""

    def due(timestamp: datetime) -> bool:
        aware = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
        local = aware.astimezone(zone())
        return (local.hour, local.minute) == (hour, minute)

    return due


@job(periodic=local_time(*MORNING))
def send_reminders_every_morning() -> None:
    """The day's reminder digests (`flask afest send-reminders` does the same at any time)."""
    sent = digests.run(database(), now=utcnow())
    log.info(
        "reminders: %d digests (%d items) for %d people due",
        sent.digests,
        sent.items,
        sent.people_due,
    )
