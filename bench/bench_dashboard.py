"""Benchmark of the OPCO dashboard on the national dataset (issue 6).

In one run, on the same data:
- the OPCO dashboard's server time, p50 and p95, through the real view (`GET /tableaux/opco`
  with the Flask test client in this process: routing, login session, rollup queries,
  small-cell rules, template rendering; no network);
- the same figures (protocols, sequences and minutes done by structure for the OPCO) computed
  by one hand-written SQL GROUP BY over the sequences table;
- the dashboard's time on the 1/10 dataset (same structures, a tenth of the learners,
  protocols and sequences);
- the peak RSS of this process (the app) after the dashboard runs.
A first read that finds saves not yet settled: bench/bench_rollups.py. Over HTTP, under
gunicorn: bench/bench_http.py.

Usage:
    .venv/bin/python bench/generate.py --url sqlite:///bench/out/national.sqlite
    .venv/bin/python bench/generate.py --url sqlite:///bench/out/tenth.sqlite --scale 0.1
    .venv/bin/python bench/bench_dashboard.py --url sqlite:///bench/out/national.sqlite \
        --tenth-url sqlite:///bench/out/tenth.sqlite
    (PostgreSQL: postgresql+psycopg://postgres@127.0.0.1:5432/afest_bench_full and
    afest_bench_tenth.)

Without --url it uses the SQLite files above and skips (with a message) when they are missing.
Prints `name = value unit` lines.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_PASSWORD  # noqa: E402

OPCO_LOGIN = "conseil@uniformation.bench"
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


def _size(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        out = {
            t: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar()
            for t in ("organisation", "protocol", "sequence")
        }
        out["learners"] = conn.execute(
            sa.text("SELECT COUNT(*) FROM roleassignment WHERE role = 'learner'")
        ).scalar()
    engine.dispose()
    return out


def time_dashboard(url: str, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds per GET /tableaux/opco after a warm-up: wall time, and this process's CPU
    time (on SQLite that includes the queries; it is what a loaded machine distorts least)."""
    app = _app(url)
    client = app.test_client()
    response = client.post("/connexion", data={"email": OPCO_LOGIN, "password": BENCH_PASSWORD})
    assert response.status_code == 302, response.status_code
    for _ in range(3):
        assert client.get("/tableaux/opco").status_code == 200
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get("/tableaux/opco")
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    from afest.core.database import database

    database(app).engine.dispose()
    return times, cpu


def time_group_by(url: str, runs: int) -> tuple[list[float], int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        funder = conn.execute(
            sa.text("SELECT id FROM organisation WHERE code = 'B-UNIFORMATION'")
        ).scalar()
        times, rows = [], 0
        for _ in range(runs):
            start = time.perf_counter()
            rows = len(conn.execute(sa.text(GROUP_BY), {"funder": funder}).all())
            times.append((time.perf_counter() - start) * 1000)
    engine.dispose()
    return times, rows


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OPCO dashboard benchmark")
    parser.add_argument("--url", default="sqlite:///bench/out/national.sqlite")
    parser.add_argument("--tenth-url", default="sqlite:///bench/out/tenth.sqlite")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--group-by-runs", type=int, default=3)
    args = parser.parse_args(argv)
    for url in (args.url, args.tenth_url):
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            print(f"bench_dashboard: {url} missing; generate it first (see bench/generate.py)")
            return
    engine = sa.engine.make_url(args.url).get_backend_name()
    full, tenth = _size(args.url), _size(args.tenth_url)
    for label, size in (("full", full), ("tenth", tenth)):
        print(
            f"dashboard.{engine}.{label}.data = {size['organisation']} organisations, "
            f"{size['learners']} learners, {size['protocol']} protocols, "
            f"{size['sequence']} sequences"
        )
    t_tenth, c_tenth = time_dashboard(args.tenth_url, args.runs)
    t_full, c_full = time_dashboard(args.url, args.runs)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    g_times, g_rows = time_group_by(args.url, args.group_by_runs)
    p50, p95 = pct(t_full, 50), pct(t_full, 95)
    p50_tenth, p95_tenth = pct(t_tenth, 50), pct(t_tenth, 95)
    g50 = statistics.median(g_times)
    print(f"dashboard.{engine}.full.p50 = {p50:.1f} ms  (GET /tableaux/opco, Flask test client)")
    print(f"dashboard.{engine}.full.p95 = {p95:.1f} ms")
    print(f"dashboard.{engine}.tenth.p50 = {p50_tenth:.1f} ms")
    print(f"dashboard.{engine}.tenth.p95 = {p95_tenth:.1f} ms")
    print(f"dashboard.{engine}.full.cpu_p50 = {pct(c_full, 50):.1f} ms  (process CPU time)")
    print(f"dashboard.{engine}.full.cpu_p95 = {pct(c_full, 95):.1f} ms")
    print(f"dashboard.{engine}.tenth.cpu_p50 = {pct(c_tenth, 50):.1f} ms")
    print(f"dashboard.{engine}.tenth.cpu_p95 = {pct(c_tenth, 95):.1f} ms")
    load, cores = os.getloadavg()[0], os.cpu_count()
    print(f"dashboard.{engine}.load_average = {load:.1f}  (1 min, {cores} cores)")
    print(f"dashboard.{engine}.group_by_over_sequences.p50 = {g50:.1f} ms  ({g_rows} structures)")
    print(f"dashboard.{engine}.speedup_vs_group_by = {g50 / p50:.1f} x  (p50 / p50)")
    print(f"dashboard.{engine}.full_over_tenth = {p50 / p50_tenth:.2f} x  (p50 / p50)")
    print(f"dashboard.{engine}.full_over_tenth_p95 = {p95 / p95_tenth:.2f} x")
    print(f"dashboard.{engine}.peak_rss = {rss_mb:.0f} MB  (this process: app + test client)")
    print(f"dashboard.{engine}.pid = {os.getpid()}")


if __name__ == "__main__":
    main()
