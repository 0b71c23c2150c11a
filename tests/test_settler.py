"""The background settler folds marked protocols into the rollups shortly after a save."""

from __future__ import annotations

import time

import sqlalchemy as sa

from afest import create_app
from afest.core.database import database
from afest.dashboards import rollups
from afest.dashboards.settler import EXTENSION_KEY
from afest.models.rollup import rollup_pending
from tests.conftest import alembic_config


def _app(url: str, seconds: float):
    from alembic import command

    app = create_app({"DATABASE_URL": url, "ENV": "development", "ROLLUP_SETTLE_SECONDS": seconds})
    with database(app).engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    return app


def _pending(app) -> list[int]:
    with database(app).session() as s:
        return list(s.connection().scalars(sa.select(rollup_pending.c.protocol_id)))


def test_a_commit_that_marks_wakes_the_settler_which_settles_in_the_background(
    fresh_database_url,
):
    app = _app(fresh_database_url(), 0.05)
    settler = app.extensions[EXTENSION_KEY]
    with app.app_context():
        with database(app).session(write=True) as s:
            rollups.mark(s, [41, 42])  # protocols purged meanwhile: settled to nothing
            s.commit()
        deadline = time.monotonic() + 10
        while _pending(app) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _pending(app) == []
    assert settler.settled == 2
    database(app).engine.dispose()


def test_a_commit_without_marks_does_not_wake_it_and_zero_switches_it_off(fresh_database_url):
    url = fresh_database_url()
    app = _app(url, 0.05)
    with app.app_context(), database(app).session(write=True) as s:
        s.execute(sa.text("SELECT 1"))
        s.commit()
    assert app.extensions[EXTENSION_KEY]._thread is None  # never started
    database(app).engine.dispose()
    off = create_app({"DATABASE_URL": url, "ENV": "development", "ROLLUP_SETTLE_SECONDS": 0})
    assert EXTENSION_KEY not in off.extensions
    with off.app_context(), database(off).session(write=True) as s:
        rollups.mark(s, [7])
        s.commit()
    time.sleep(0.3)
    assert _pending(off) == [7]  # left for the next dashboard read
    database(off).engine.dispose()
