"""The accounts' jobs: every night, what is past its retention period is purged (GDPR)."""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from afest.accounts import retention
from afest.core.database import database
from afest.core.jobs import job
from afest.models import utcnow

log = logging.getLogger(__name__)


@job(periodic=crontab(hour="3", minute="15"))
def purge_nightly() -> dict[str, int]:
    """`flask afest purge`, at night; returns what was removed, by kind."""
    with database().session(write=True) as session:
        done = retention.purge(session, settings=current_app.config, now=utcnow())
        session.commit()
    summary = done.summary()
    log.info("retention: removed %s", ", ".join(f"{n} {kind}" for kind, n in summary.items()))
    return summary
