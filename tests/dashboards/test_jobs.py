"""The dashboards' jobs: a commit that marks protocols enqueues one settle per interval, and
the settle folds the marks into the rollups."""

from __future__ import annotations

import sqlalchemy as sa

from afest import create_app
from afest.core.database import database
from afest.dashboards import jobs, rollups
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


def _commit_marks(app, ids):
    with app.app_context(), database(app).session(write=True) as s:
        if ids:
            rollups.mark(s, ids)
        else:
            s.execute(sa.text("SELECT 1"))
        s.commit()


def test_commits_that_mark_enqueue_one_delayed_settle_which_settles(
    fresh_database_url, monkeypatch
):
    app = _app(fresh_database_url(), 30)
    scheduled = []
    monkeypatch.setattr(jobs.settle_rollups, "schedule", lambda **kw: scheduled.append(kw))
    _commit_marks(app, [41, 42])  # protocols purged meanwhile: settled to nothing
    _commit_marks(app, [43])  # within the same 30 s: folded into the same settle
    assert scheduled == [{"delay": 30}]
    assert _pending(app) == [41, 42, 43]
    with app.app_context():
        assert jobs.settle_rollups.call_local() == 3
    assert _pending(app) == []
    database(app).engine.dispose()


def test_a_commit_without_marks_enqueues_nothing_and_zero_switches_it_off(
    fresh_database_url, monkeypatch
):
    url = fresh_database_url()
    scheduled = []
    monkeypatch.setattr(jobs.settle_rollups, "schedule", lambda **kw: scheduled.append(kw))
    app = _app(url, 0.05)
    _commit_marks(app, [])
    assert scheduled == []
    database(app).engine.dispose()
    off = create_app({"DATABASE_URL": url, "ENV": "development", "ROLLUP_SETTLE_SECONDS": 0})
    assert jobs.EXTENSION_KEY not in off.extensions
    _commit_marks(off, [7])
    assert scheduled == []
    assert _pending(off) == [7]  # left for the minute's settle or the next dashboard read
    database(off).engine.dispose()


def test_a_dashboard_read_has_the_queue_settle_first(app, connection, login_as):
    """The marks a save left are folded in before the figures are read (the job runs in
    place under the test suite)."""
    with database(app).session(write=True) as s:
        rollups.mark(s, [987654])
        s.commit()
    assert login_as("conseil@uniformation.demo").get("/tableaux/opco").status_code == 200
    with database(app).session() as s:
        assert not rollups.is_pending(s)


def test_a_page_waits_a_moment_then_says_what_it_does_not_count_yet(
    app, connection, login_as, monkeypatch
):
    """A queue behind (or no consumer): the page does not wait its 5 s; it shows what is
    settled and how many protocols are not counted yet. An export waits longer."""
    from huey.exceptions import ResultTimeout

    waited = []

    def behind():
        def result(blocking, timeout):
            waited.append(timeout)
            raise ResultTimeout

        return result

    monkeypatch.setattr(jobs, "settle_rollups", behind)
    with database(app).session(write=True) as s:
        rollups.mark(s, [987654, 987655])
        s.commit()
    client = login_as("conseil@uniformation.demo")
    page = client.get("/tableaux/opco").get_data(as_text=True)
    assert "2 protocoles modifiés à l'instant ne sont pas encore comptés" in page
    assert waited == [app.config["ROLLUP_READ_WAIT_SECONDS"]] and waited[0] < 1
    assert client.get("/tableaux/opco/export.csv").status_code == 200
    assert waited[-1] == 5
    monkeypatch.undo()
    page = client.get("/tableaux/opco").get_data(as_text=True)  # settled in place now
    assert "pas encore compté" not in page
    with database(app).session() as s:
        assert not rollups.is_pending(s)
