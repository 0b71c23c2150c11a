"""Benchmark of the OPCO dashboard on the national dataset, where an adviser meets it: over
HTTP, under gunicorn; and in process.

Per engine, in one run, on bench/generate.py's national dataset (2,000 structures, 50,000
learners, 1.5 M sequences: bench/out/national.sqlite and the PostgreSQL database
afest_bench_full) and on its tenth (the same structures, a tenth of the learners, protocols
and sequences: bench/out/tenth.sqlite, afest_bench_tenth); skipped with a message where one
is missing:
- `opco_dashboard_http`: GET /tableaux/opco as the national data's Uniformation adviser (940
  structures, 35,000 protocols), from the client side of a TCP connection to one gunicorn
  instance per dataset started with config/gunicorn.conf.py (production environment, its
  workers and threads, the job consumer beside it: bench/bench_http.py's server), after 10
  reads of warm-up; p50 and p95 of --reads reads, a national read and a tenth's taking turns
  (`national_over_tenth`);
- `group_by_over_sequences`: the same OPCO's protocols, sequences and minutes done by
  structure computed by one hand-written GROUP BY over the sequences table (the query a user
  would write without the rollups), on the same national database, run between the
  dashboard's reads (one after each fifth of them, so both meet the same machine), median;
  `speedup_vs_group_by` is that median over the dashboard's p50 over HTTP;
- `opco_dashboard_in_process`: the same GET through the Flask test client in this process
  (routing, login session, rollup queries, small-cell rules, template rendering; no network).
Both datasets are first brought to the code's schema (`alembic upgrade head`), their rollups'
statistics refreshed.
A first read that finds saves not yet settled, the settle and the rebuild:
bench/bench_rollups.py; the dashboard while tutors save: bench/bench_http.py.

Usage: .venv/bin/python bench/bench_dashboard.py [--engines sqlite,postgresql] [--reads 100]
Prints `name[engine,data] = value unit` lines.
"""

from __future__ import annotations

import argparse
import atexit
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_http  # noqa: E402  (its gunicorn server, login and reads)
import load  # noqa: E402  (its percentiles)
from common import dataset_exists, national_url, tenth_url  # noqa: E402
from generate import BENCH_PASSWORD  # noqa: E402

OPCO_LOGIN = "conseil@uniformation.bench"
TARGETS = {"p95": 50.0, "speedup": 20.0, "national_over_tenth": 1.3}
GROUP_BY = """
SELECT p.structure_id, COUNT(DISTINCT p.id) AS protocols, COUNT(s.id) AS sequences,
       COALESCE(SUM(s.duration_minutes), 0) AS minutes
FROM protocol p
LEFT JOIN sequence s ON s.protocol_id = p.id
     AND NOT EXISTS (SELECT 1 FROM sequence n WHERE n.amends_id = s.id)
WHERE p.funder_id = :funder
GROUP BY p.structure_id
"""


def _app(url: str):
    from afest import create_app
    from afest.core import jobs

    jobs.huey.immediate = True  # a settle the page asks for runs here, not in a consumer
    return create_app(
        {
            "DATABASE_URL": url,
            "ENV": "testing",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )


def _upgrade(url: str) -> None:
    """The dataset at the code's schema, its rollups' planner statistics (and on PostgreSQL
    their visibility map, which index-only scans read) refreshed, as a rebuild leaves them."""
    from afest.dashboards.rollups import refresh_statistics

    done = subprocess.run(
        [str(ROOT / ".venv/bin/alembic"), "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "AFEST_DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"alembic upgrade head failed on {url}:\n{done.stderr[-2000:]}")
    engine = sa.create_engine(url)
    refresh_statistics(engine)
    engine.dispose()


def _size(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = {
            t: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar()
            for t in ("organisation", "protocol", "sequence")
        }
        learners = conn.execute(
            sa.text("SELECT COUNT(*) FROM roleassignment WHERE role = 'learner'")
        ).scalar()
    engine.dispose()
    return (
        f"{n['organisation']:,} organisations, {learners:,} learners, {n['protocol']:,} "
        f"protocols, {n['sequence']:,} sequences"
    )


def in_process(url: str, runs: int) -> list[float]:
    """Milliseconds per GET /tableaux/opco through the Flask test client, after a warm-up."""
    from afest.core.database import database

    app = _app(url)
    client = app.test_client()
    response = client.post("/connexion", data={"email": OPCO_LOGIN, "password": BENCH_PASSWORD})
    assert response.status_code == 302, response.status_code
    for _ in range(3):
        assert client.get("/tableaux/opco").status_code == 200
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get("/tableaux/opco")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    database(app).engine.dispose()
    return times


class GroupBy:
    """The hand-written GROUP BY over the sequences, on its own connection."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url)
        with self.engine.connect() as conn:
            self.funder = conn.execute(
                sa.text("SELECT id FROM organisation WHERE code = 'B-UNIFORMATION'")
            ).scalar()
        self.times: list[float] = []
        self.rows = 0

    def run(self) -> None:
        with self.engine.connect() as conn:
            start = time.perf_counter()
            self.rows = len(conn.execute(sa.text(GROUP_BY), {"funder": self.funder}).all())
            self.times.append((time.perf_counter() - start) * 1000)

    def close(self) -> None:
        self.engine.dispose()


def over_http(urls: dict[str, str], reads: int, group_by: GroupBy) -> tuple[dict, int]:
    """Milliseconds per GET /tableaux/opco under gunicorn, one server per dataset, their reads
    taking turns so that both meet the same machine (its speed here varies by a third from
    one minute to the next), and one run of the GROUP BY after each fifth of the reads; and
    the size of the national page."""
    servers = {}
    try:
        for name, url in urls.items():
            servers[name] = bench_http.start_server(ROOT, url)
        cookies = {
            name: bench_http.login(server.port, OPCO_LOGIN, BENCH_PASSWORD)
            for name, server in servers.items()
        }
        times: dict[str, list[float]] = {name: [] for name in servers}
        sizes = {}
        for i in range(-10, reads):  # ten reads of warm-up each
            for name, server in servers.items():
                elapsed, error, sizes[name] = bench_http.read_dashboard(server.port, cookies[name])
                if error:
                    raise SystemExit(f"{OPCO_LOGIN} ({name}): {error}")
                if i >= 0:
                    times[name].append(elapsed * 1000)
            if i >= 0 and (i + 1) % max(1, reads // 5) == 0:
                group_by.run()
        return times, sizes["national"]
    finally:
        for server in servers.values():
            bench_http.RUNNING.remove(server)
            server.stop()


def machine_reference() -> float:
    """Milliseconds of a fixed pure-Python loop, best of 5: how fast this machine runs Python
    now, printed at the start and the end of each engine's run, so that figures of runs on
    machines of different or varying speed can be compared."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, time.perf_counter() - start)
    return best * 1000


def run(engine: str, reads: int) -> None:
    urls = {"national": national_url(engine), "tenth": tenth_url(engine)}
    missing = [name for name, url in urls.items() if not dataset_exists(url)]
    if missing:
        print(
            f"# bench_dashboard: no {' or '.join(missing)} dataset for {engine}; "
            "see bench/generate.py (--scale 0.1 for the tenth)"
        )
        return
    for url in urls.values():
        _upgrade(url)
    for name, url in urls.items():
        print(f"# engine {engine}, data {name}: {_size(url)}")
    print(f"# load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)", flush=True)
    reference = machine_reference()

    group_by = GroupBy(urls["national"])
    try:
        http, size = over_http(urls, reads, group_by)
    finally:
        group_by.close()
    local = {name: in_process(url, reads) for name, url in urls.items()}
    load_average = os.getloadavg()[0]
    print(
        f"# machine: a fixed Python loop took {reference:.0f} ms before, "
        f"{machine_reference():.0f} ms after (best of 5)"
    )

    def pct(values: list[float], q: float) -> float:
        return load.percentile(values, q)

    print(f"# the OPCO dashboard page: {size:,} bytes; load average {load_average:.1f}")
    for name in ("national", "tenth"):
        label = f"{engine},{name}"
        p95 = pct(http[name], 0.95)
        met = "met" if p95 <= TARGETS["p95"] else "NOT MET"
        print(f"opco_dashboard_http_p50[{label}] = {pct(http[name], 0.5):.1f} ms  (gunicorn)")
        print(
            f"opco_dashboard_http_p95[{label}] = {p95:.1f} ms  "
            f"(target <= {TARGETS['p95']:g} ms: {met})"
        )
        print(
            f"opco_dashboard_in_process_p50[{label}] = {pct(local[name], 0.5):.1f} ms  "
            f"(p95 {pct(local[name], 0.95):.1f} ms, Flask test client)"
        )
    label = f"{engine},national"
    g50 = statistics.median(group_by.times)
    speedup = g50 / pct(http["national"], 0.5)
    print(
        f"group_by_over_sequences[{label}] = {g50:.0f} ms  (median of {len(group_by.times)}: "
        f"{', '.join(f'{t:.0f}' for t in group_by.times)}; {group_by.rows} structures)"
    )
    met = "met" if speedup >= TARGETS["speedup"] else "NOT MET"
    print(
        f"speedup_vs_group_by[{label}] = {speedup:.1f} x  (GROUP BY median / dashboard p50 "
        f"over HTTP; target >= {TARGETS['speedup']:g} x: {met})"
    )
    for q, name in ((0.5, "p50"), (0.95, "p95")):
        ratio = pct(http["national"], q) / pct(http["tenth"], q)
        met = "met" if ratio <= TARGETS["national_over_tenth"] else "NOT MET"
        print(
            f"national_over_tenth_{name}[{engine}] = {ratio:.2f} x  (over HTTP; target <= "
            f"{TARGETS['national_over_tenth']:g} x: {met})"
        )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--reads", type=int, default=100)
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"sqlite", "postgresql"}:
        parser.error("--engines: sqlite, postgresql or both")
    if not 5 <= args.reads <= 10_000:
        parser.error("--reads must be between 5 and 10000")
    atexit.register(bench_http.stop_all)
    for engine in engines:
        run(engine, args.reads)


if __name__ == "__main__":
    main()
