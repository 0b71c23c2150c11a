"""Benchmark of the morning's reminder digests on the national dataset (issue 16).

What the job does at 07:00 (afest.todo.digests.run), timed on the national dataset of
bench/generate.py (2,000 structures, 50,000 learners, 1.5 M sequences), on a Monday, when
the daily people (tutors) and the weekly ones (everyone else, and every OPCO adviser, as if
all had asked for their summary) are all due: who is due, what
waits for each (afest.todo.items.waiting, by chunks of digests.CHUNK people), the digests
and their messages written to the outbox (rendered in each person's language). The run is
inside one transaction rolled back at the end, so the dataset is left as it was; the
sending of the outbox (SMTP) is not part of it.

Figures: the whole run, the reads (waiting, then plan by chunk) and the writes (record)
apart, the number of SQL statements (which depends on the number of chunks, not of people),
the digests and items, peak RSS and the machine's load.

Usage:
    .venv/bin/python bench/generate.py --url sqlite:///bench/out/national.sqlite
    .venv/bin/python bench/generate.py \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/afest_bench_full
    .venv/bin/python bench/bench_digests.py                      # both, when they exist
    .venv/bin/python bench/bench_digests.py --engines sqlite --sqlite-url sqlite:///x.sqlite

A dataset that is missing is skipped with a message. Prints `name = value unit` lines.
Target: under 2 minutes on each engine.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    NATIONAL_PG_DATABASE,
    NATIONAL_SQLITE_URL,
    PG_URL,
    dataset_exists,
)

# The dataset's "today" is Sunday 1 November 2026: the next morning is a Monday, 07:00 Paris.
AT = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _size(conn: sa.Connection) -> str:
    count = {
        t: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar()
        for t in ("user", "protocol", "sequence")
    }
    structures = conn.execute(
        sa.text("SELECT COUNT(*) FROM organisation WHERE kind = 'structure'")
    ).scalar()
    learners = conn.execute(
        sa.text("SELECT COUNT(*) FROM roleassignment WHERE role = 'learner'")
    ).scalar()
    return (
        f"{structures} structures, {count['user']} accounts, {learners} learners, "
        f"{count['protocol']} protocols, {count['sequence']} sequences"
    )


class Timed:
    """Wraps a function of a module (digests.plan, .waiting, .record) to add up the time
    spent in it."""

    def __init__(self, module, name: str):
        self.module, self.name = module, name
        self.inner = getattr(module, name)
        self.seconds = 0.0
        self.calls = 0

    def __enter__(self):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return self.inner(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc):
        setattr(self.module, self.name, self.inner)


def bench(url: str) -> None:
    from sqlalchemy import event
    from sqlmodel import Session

    from afest import create_app
    from afest.core.database import database
    from afest.mail import jobs as mail_jobs
    from afest.todo import digests

    app = create_app({"DATABASE_URL": url, "ENV": "testing", "TESTING": True})
    engine = sa.engine.make_url(url).get_backend_name()
    engine = "postgresql" if engine.startswith("postgres") else engine
    # the outbox is written, not sent: no sending job after each chunk's commit
    if event.contains(Session, "after_commit", mail_jobs._after_commit):
        event.remove(Session, "after_commit", mail_jobs._after_commit)
    db = database(app)
    statements = 0

    def count(conn, cursor, statement, *args):
        nonlocal statements
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements += 1

    with db.engine.connect() as conn:
        print(f"digests.{engine}.data = {_size(conn)}")
        conn.rollback()  # the counts' transaction
        transaction = conn.begin()  # rolled back: the dataset stays as it was
        # every OPCO adviser asks for her summary (none does by default): the worst case
        opted = conn.execute(
            sa.text(
                "UPDATE \"user\" SET reminder_frequency = 'weekly' WHERE id IN "
                "(SELECT user_id FROM roleassignment WHERE role = 'opco')"
            )
        ).rowcount
        db.bind = conn
        event.listen(conn, "before_cursor_execute", count)
        try:
            with (
                app.app_context(),
                Timed(digests, "plan") as plan,
                Timed(digests, "waiting") as waits,
                Timed(digests, "record") as record,
            ):
                start, start_cpu = time.perf_counter(), time.process_time()
                sent = digests.run(db, now=AT)
                elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
                outbox_rows = conn.execute(sa.text("SELECT COUNT(*) FROM outboxmessage")).scalar()
            first_run = statements, plan.calls
            with app.app_context():  # the same morning again (a second consumer, a retry)
                again_start = time.perf_counter()
                again = digests.run(db, now=AT)
                again_elapsed = time.perf_counter() - again_start
        finally:
            event.remove(conn, "before_cursor_execute", count)
            db.bind = db.engine
            transaction.rollback()
    db.engine.dispose()
    statements, chunks = first_run
    tag = f"digests.{engine}"
    print(f"{tag}.at = {AT.isoformat()}  (a Monday 07:00 in Paris: daily and weekly due)")
    print(f"{tag}.people_due = {sent.people_due} people  ({opted} OPCO advisers opted in)")
    print(f"{tag}.digests = {sent.digests} messages  ({outbox_rows} outbox rows)")
    print(f"{tag}.items = {sent.items} items")
    print(f"{tag}.total = {elapsed:.1f} s  (target < 120 s)")
    print(f"{tag}.cpu = {cpu:.1f} s  (this process's CPU time)")
    print(f"{tag}.waiting = {waits.seconds:.1f} s  (reads: what waits for everyone due, once)")
    print(f"{tag}.plan = {plan.seconds:.1f} s  (reads, by chunk: what was sent, the links)")
    print(f"{tag}.record = {record.seconds:.1f} s  (writes: digests, rendering, outbox)")
    print(
        f"{tag}.again = {again.digests} messages in {again_elapsed:.1f} s  "
        "(the same morning run a second time: nothing more)"
    )
    print(f"{tag}.chunks = {chunks}  ({digests.CHUNK} people each)")
    print(f"{tag}.queries = {statements} statements  ({statements / max(chunks, 1):.1f} a chunk)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{tag}.peak_rss = {rss:.0f} MB")
    load, cores = os.getloadavg()[0], os.cpu_count()
    print(f"{tag}.load_average = {load:.1f}  (1 min, {cores} cores)")


def _national_pg_url() -> str:
    return sa.engine.make_url(PG_URL).set(database=NATIONAL_PG_DATABASE).render_as_string(False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="reminder digests benchmark")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--sqlite-url", default=NATIONAL_SQLITE_URL)
    parser.add_argument("--pg-url", default=None, help=f"default: {NATIONAL_PG_DATABASE} on PG_URL")
    args = parser.parse_args(argv)
    urls = {"sqlite": args.sqlite_url, "postgresql": args.pg_url or _national_pg_url()}
    for engine in args.engines.split(","):
        url = urls[engine.strip()]
        if not dataset_exists(url):
            print(f"bench_digests: no national dataset at {url}; see bench/generate.py")
            continue
        bench(url)


if __name__ == "__main__":
    main()
