"""The proof's jobs: every night, the audit hash chains, every signature and every attached
file are checked, then the heads of the chains are checkpointed outside the database."""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from afest.core import storage
from afest.core.database import database
from afest.core.jobs import job
from afest.proof import checkpoints
from afest.proof.integrity import verify_all

log = logging.getLogger(__name__)


@job(periodic=crontab(hour="2", minute="30"))
def verify_nightly() -> int:
    """`flask afest verify`, at night: each row changed outside afest is logged as an error;
    returns how many."""
    with database().session() as session:
        findings = verify_all(
            session, checkpoints.Store.of(current_app), storage.Store.of(current_app)
        )
    for finding in findings:
        log.error("integrity: %s", finding)
    if not findings:
        log.info("integrity: audit chains and signatures all intact")
    return len(findings)


@job(periodic=crontab(hour="2", minute="45"))
def checkpoint_nightly() -> bool:
    """`flask afest checkpoint`, at night, after verify: the heads of every audit chain are
    appended to the checkpoint file. Refused (each reason logged as an error) while a chain
    falls short of the latest checkpoint; returns whether one was written."""
    store = checkpoints.Store.of(current_app)
    with database().session() as session:
        try:
            written = checkpoints.write(session, store)
        except checkpoints.CheckpointRefused as exc:
            for problem in exc.problems:
                log.error("checkpoint refused: %s", problem)
            return False
    log.info("checkpoint: %d chains written to %s", len(written.chains), store.path)
    return True
