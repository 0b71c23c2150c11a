"""Benchmark of the dashboard rollups' upkeep on the national dataset, both engines.

In one run, per engine, on bench/generate.py's national dataset (2,000 structures, 50,000
learners, 1.5 M sequences: bench/out/national.sqlite and the PostgreSQL database
afest_bench_full; skipped with a message where missing):
- `rebuild`: the whole command an administrator runs, `flask --app afest afest
  rebuild-rollups` (a process of its own: start, recompute every rollup from the source
  tables, commit), wall time;
- `settle_<n>_changed`: `rollups.settle` of a backlog of n protocols in progress, each of
  which had one of its sequences lengthened by a minute after it was last settled (what n
  saves on n protocols leave when the job consumer is down or behind). The minutes are then
  taken back and settled again, twice over (four samples, the first in a process that has
  not settled yet: the job consumer, a long-lived process, builds its statements once), so
  the dataset ends as it began;
- `first_read_after_<n>_changed`: a GET /tableaux/opco (Flask test client) by the national
  data's Uniformation adviser that finds such a backlog, with the job consumer running beside
  it (`flask afest worker`, a process of its own, as in production): the page asks the queue
  to settle and waits ROLLUP_READ_WAIT_SECONDS at most, then shows what is settled and says
  how many protocols it does not count yet; `…_counted` is whether it counted them all;
  `backlog_<n>_settled_by_consumer` is how long the consumer took to settle the backlog.
  This part runs in a process of its own (`--first-read ENGINE`), whose queue is the one
  its database names.

Usage: .venv/bin/python bench/bench_rollups.py [--engines sqlite,postgresql] [--backlog 1000]
Prints `name[engine,data] = value unit` lines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import dataset_exists, national_url  # noqa: E402
from bench.generate import BENCH_PASSWORD  # noqa: E402

OPCO_LOGIN = "conseil@uniformation.bench"
TARGETS = {"rebuild": 60.0, "settle": 1000.0, "first_read": 200.0}


def _app(url: str):
    from afest import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "ENV": "testing",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )


def _size(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = {
            t: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar()
            for t in ("organisation", "protocol", "sequence")
        }
    engine.dispose()
    return (
        f"{n['organisation']} organisations, {n['protocol']} protocols, {n['sequence']} sequences"
    )


def time_rebuild(url: str) -> float:
    """Seconds of `flask afest rebuild-rollups`, the whole command."""
    env = {**os.environ, "AFEST_DATABASE_URL": url}
    start = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "afest", "afest", "rebuild-rollups"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"rebuild-rollups failed:\n{done.stderr[-2000:]}")
    return elapsed


def _backlog(db, n: int, minutes: int) -> list[int]:
    """Lengthen (or shorten) by `minutes` the latest sequence of n protocols in progress and
    mark them, as n saves would; returns the protocols."""
    from afest.dashboards import rollups

    with db.session(write=True) as session:
        conn = session.connection()
        ids = list(
            conn.scalars(
                sa.text(
                    "SELECT id FROM protocol WHERE status = 'in_progress' "
                    "AND EXISTS (SELECT 1 FROM sequence s WHERE s.protocol_id = protocol.id) "
                    "ORDER BY id DESC LIMIT :n"
                ),
                {"n": n},
            )
        )
        conn.execute(
            sa.text(
                "UPDATE sequence SET duration_minutes = duration_minutes + :m WHERE id IN "
                "(SELECT MAX(id) FROM sequence WHERE protocol_id IN :ids GROUP BY protocol_id)"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"m": minutes, "ids": ids},
        )
        rollups.mark(session, ids)
        session.commit()
    return ids


def run(engine: str, n: int) -> None:
    from afest.core import jobs
    from afest.core.database import database
    from afest.dashboards import rollups

    url = national_url(engine)
    if not dataset_exists(url):
        print(f"# bench_rollups: no national dataset for {engine}; see bench/generate.py")
        return
    label = f"{engine},national"
    print(f"# engine {engine}, data national: {_size(url)}")
    print(f"# load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)", flush=True)

    seconds = time_rebuild(url)
    print(f"rollups.rebuild[{label}] = {seconds:.1f} s  (target <= {TARGETS['rebuild']:.0f} s)")

    app = _app(url)
    db = database(app)
    jobs.huey.immediate = True  # the settles timed here run in this process
    with app.app_context():
        settles = []
        for minutes in (1, -1, 1, -1):
            _backlog(db, n, minutes)
            start = time.perf_counter()
            settled = rollups.settle(db)
            settles.append((time.perf_counter() - start) * 1000)
            assert settled >= n, settled
    print(
        f"rollups.settle_{n}_changed[{label}] = {statistics.median(settles):.0f} ms  "
        f"(median of {len(settles)}: {', '.join(f'{s:.0f}' for s in settles)}; "
        f"target <= {TARGETS['settle']:.0f} ms)"
    )

    db.engine.dispose()
    done = subprocess.run(
        [sys.executable, __file__, "--first-read", engine, "--backlog", str(n)],
        cwd=ROOT,
        env={**os.environ, "AFEST_DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    print(done.stdout, end="")
    if done.returncode != 0:
        raise SystemExit(f"first read failed:\n{done.stderr[-3000:]}")


def first_read(engine: str, n: int) -> None:
    """The dashboard's first read after a backlog, the job consumer running beside it (this
    process's queue is the one AFEST_DATABASE_URL names, as the consumer's)."""
    from afest.core import jobs
    from afest.core.database import database
    from afest.dashboards import rollups

    url, label = os.environ["AFEST_DATABASE_URL"], f"{engine},national"
    app = _app(url)
    db = database(app)
    jobs.huey.immediate = False
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/flask"), "--app", "afest", "afest", "worker"],
        cwd=ROOT,
        env={**os.environ, "AFEST_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = app.test_client()
        data = {"email": OPCO_LOGIN, "password": BENCH_PASSWORD}
        assert client.post("/connexion", data=data).status_code == 302
        for _ in range(3):
            assert client.get("/tableaux/opco").status_code == 200
        reads, counted, settled = [], [], []
        for minutes in (1, -1):
            with app.app_context():
                _backlog(db, n, minutes)
            marked = time.perf_counter()
            page = client.get("/tableaux/opco")
            reads.append((time.perf_counter() - marked) * 1000)
            assert page.status_code == 200
            counted.append("pas encore compt" not in page.get_data(as_text=True))
            with app.app_context():
                while True:
                    with db.session() as session:
                        if not rollups.is_pending(session):
                            break
                    if time.perf_counter() - marked > 120:
                        raise SystemExit("the consumer did not settle the backlog in 120 s")
                    time.sleep(0.02)
            settled.append((time.perf_counter() - marked) * 1000)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        db.engine.dispose()
    print(
        f"rollups.first_read_after_{n}_changed[{label}] = {statistics.median(reads):.0f} ms  "
        f"(GET /tableaux/opco, consumer beside it, median of {len(reads)}: "
        f"{', '.join(f'{r:.0f}' for r in reads)}; target <= {TARGETS['first_read']:.0f} ms)"
    )
    print(
        f"rollups.first_read_after_{n}_changed_counted[{label}] = "
        f"{', '.join('all' if c else 'not all (said so)' for c in counted)}"
    )
    print(
        f"rollups.backlog_{n}_settled_by_consumer[{label}] = "
        f"{statistics.median(settled):.0f} ms  (from the marks to none left, median of "
        f"{len(settled)}: {', '.join(f'{s:.0f}' for s in settled)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--backlog", type=int, default=1000)
    parser.add_argument("--first-read", metavar="ENGINE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_read:
        first_read(args.first_read, args.backlog)
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"sqlite", "postgresql"}:
        parser.error("--engines: sqlite, postgresql or both")
    if not 1 <= args.backlog <= 20_000:
        parser.error("--backlog must be between 1 and 20000")
    for engine in engines:
        run(engine, args.backlog)


if __name__ == "__main__":
    main()
