"""Benchmark of a home page's "À faire" on the national dataset (issue 16).

What "À faire" adds to a person's home, timed for people of each role with something to do
on the national dataset of bench/generate.py: what waits for her
(afest.todo.items.waiting for her id and her roles — the navigation's count reads the same
items, once per request), then the list composed and rendered (afest.todo.home.groups and
templates/todo/_home.html); the OPCO advisers as if they had all asked for their summary of
the structures at risk (in a transaction never committed: their home lists nothing, the
summary is their digest's). Read only. Figures: p50 and p95 in milliseconds per role, and the
SQL statements of one person's list.

Usage:
    .venv/bin/python bench/bench_home_todo.py                 # both datasets, when they exist
    .venv/bin/python bench/bench_home_todo.py --engines sqlite --sqlite-url sqlite:///x.sqlite

Prints `name = value unit` lines. Target: under 10 ms per home page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import NATIONAL_PG_DATABASE as PG_DATASET  # noqa: E402
from bench.common import NATIONAL_SQLITE_URL as SQLITE_URL  # noqa: E402
from bench.common import PG_URL  # noqa: E402
from bench.common import dataset_exists as _exists  # noqa: E402

# The dataset's "today" is Sunday 1 November 2026; a Monday morning at 09:00 in Paris.
AT = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
PEOPLE = 30  # per role
ROUNDS = 3  # each person's list timed this many times (the best kept: a warm home page)
ROLES = ("tutor", "learner", "manager", "consultant", "opco")


def _people(conn: sa.Connection, role: str) -> list[int]:
    rows = conn.execute(
        sa.text(
            "SELECT DISTINCT user_id FROM roleassignment WHERE role = :role "
            "ORDER BY user_id LIMIT :n"
        ),
        {"role": role, "n": PEOPLE * 7},
    )
    ids = [r[0] for r in rows]
    return ids[:: max(1, len(ids) // PEOPLE)][:PEOPLE]


def bench(url: str, engine: str) -> None:
    from flask import render_template
    from sqlalchemy import event

    from afest import create_app
    from afest.core.database import database
    from afest.todo import home
    from afest.todo.items import waiting

    app = create_app({"DATABASE_URL": url, "ENV": "testing", "TESTING": True})
    db = database(app)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.test_request_context(), db.session() as session:
        # every OPCO adviser asked for her summary (none has by default); never committed
        session.execute(
            sa.text(
                "UPDATE \"user\" SET reminder_frequency = 'weekly' WHERE id IN "
                "(SELECT user_id FROM roleassignment WHERE role = 'opco')"
            )
        )
        items = 0
        for role in ROLES:
            people = _people(session.connection(), role)
            times = []
            for person in people:
                best = None
                for _ in range(ROUNDS):
                    start = time.perf_counter()
                    found = waiting(session, people=[person], now=AT, roles=[role])
                    mine = found.get(person, [])
                    render_template("todo/_home.html", todo=home.groups(mine))
                    spent = time.perf_counter() - start
                    best = spent if best is None else min(best, spent)
                times.append(best * 1000)
                items += len(mine)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            print(f"home_todo.{engine}.{role}.p50 = {statistics.median(times):.1f} ms")
            print(f"home_todo.{engine}.{role}.p95 = {p95:.1f} ms")
        print(f"home_todo.{engine}.items_listed = {items}")
        event.listen(db.engine, "before_cursor_execute", count)
        waiting(session, people=[people[0]], now=AT)  # every role's kinds: the most
        event.remove(db.engine, "before_cursor_execute", count)
        print(f"home_todo.{engine}.statements_all_kinds = {len(statements)}")
    db.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--sqlite-url", default=SQLITE_URL)
    parser.add_argument(
        "--pg-url",
        default=sa.engine.make_url(PG_URL).set(database=PG_DATASET).render_as_string(False),
    )
    args = parser.parse_args(argv)
    for engine in args.engines.split(","):
        url = args.sqlite_url if engine == "sqlite" else args.pg_url
        if not _exists(url):
            print(f"home_todo.{engine}: no dataset at {url} (bench/generate.py makes it)")
            continue
        bench(url, engine)


if __name__ == "__main__":
    main()
