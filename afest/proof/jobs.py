"""The proof's jobs: every night, the audit hash chains and every signature are checked."""

from __future__ import annotations

import logging

from huey import crontab

from afest.core.database import database
from afest.core.jobs import job
from afest.proof.integrity import verify_all

log = logging.getLogger(__name__)


@job(periodic=crontab(hour="2", minute="30"))
def verify_nightly() -> int:
    """`flask afest verify`, at night: each row changed outside afest is logged as an error;
    returns how many."""
    with database().session() as session:
        findings = verify_all(session)
    for finding in findings:
        log.error("integrity: %s", finding)
    if not findings:
        log.info("integrity: audit chains and signatures all intact")
    return len(findings)
