"""Saving a sequence from the tutor's tablet: server time p50 / p95 on national-size data.

Usage: .venv/bin/python bench/bench_sequence_save.py [--engines sqlite,postgresql]
       [--scale 1.0] [--saves 300] [--reflections 100] [--replace]

Data: bench/generate.py's national dataset (scale 1.0: 2,000 structures, 50,000 learners,
1,500,000 sequences) with the demo seeded on top, kept between runs in
bench/out/seqsave-<scale>.sqlite and in the PostgreSQL database afest_bench_seqsave_<scale>
(on AFEST_BENCH_PG_URL, default the local server); `--replace` rebuilds them.

What is timed: one POST through the real view (`tablet.situation` / `tablet.reflection`),
via the Flask test client inside this process — CSRF on, logged in as the demo tutor, form
validation, the service (scope checks, idempotence lookup, rows, audit hash chain) and the
request's commit. No network and no browser: this is server time. Each save uses a new
client id; a repeated one (the idempotent path) is timed separately. Target: p95 ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import select  # noqa: E402

from afest import create_app  # noqa: E402
from afest.assessments.levels import targeted_competence_ids  # noqa: E402
from afest.core.database import database  # noqa: E402
from afest.models import Protocol, Sequence, User, utcnow  # noqa: E402

OUT = ROOT / "bench" / "out"
PG_URL = os.environ.get(
    "AFEST_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TZ = ZoneInfo("Europe/Paris")
TUTOR = "tuteur@azur-aide.demo"
LEARNER = "apprenant3@azur-aide.demo"
PASSWORD = "afest-demo-2026"


def dataset_url(engine: str, scale: float) -> str:
    tag = f"{scale:g}".replace(".", "_")
    if engine == "sqlite":
        OUT.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{OUT / f'seqsave-{tag}.sqlite'}"
    return (
        sa.engine.make_url(PG_URL)
        .set(database=f"afest_bench_seqsave_{tag}")
        .render_as_string(hide_password=False)
    )


def ensure_dataset(url: str, scale: float, replace: bool) -> None:
    """bench/generate.py's data, then the demo on top (its tutor and learners are used)."""
    import generate

    from afest import demo
    from afest.core.database import make_engine

    engine = None
    if not replace:
        try:
            engine = make_engine(url)
            with engine.connect() as conn:
                ready = conn.execute(
                    sa.text('SELECT COUNT(*) FROM "user" WHERE email = :e'), {"e": TUTOR}
                ).scalar()
            if ready:
                engine.dispose()
                return
        except sa.exc.SQLAlchemyError:
            pass
        if engine is not None:
            engine.dispose()
    t0 = time.perf_counter()
    national = OUT / "national.sqlite"  # made by `bench/generate.py` for the dashboards bench
    if url.startswith("sqlite") and scale == 1.0 and national.exists() and not replace:
        # Copy it (SQLite backup API: consistent even with a WAL) rather than regenerate.
        import sqlite3

        target = Path(sa.engine.make_url(url).database)
        target.unlink(missing_ok=True)
        with sqlite3.connect(national) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        generate.prepare_database(url, replace=False).dispose()
    elif url.startswith("postgresql") and scale == 1.0 and _pg_exists("afest_bench_full"):
        # The dashboards bench's national database, copied as a template (a file copy).
        parsed = sa.engine.make_url(url)
        admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}" TEMPLATE "afest_bench_full"')
        admin.dispose()
        generate.prepare_database(url, replace=False).dispose()
    else:
        generate.generate(url, scale=scale, replace=True, log=lambda *a: None)
    app = create_app({"DATABASE_URL": url, "ENV": "testing", "RATELIMIT_ENABLED": False})
    with database(app).session(write=True) as session:
        demo.seed(session)
        session.commit()
    database(app).engine.dispose()
    print(f"# dataset built in {time.perf_counter() - t0:.0f} s: {url.split('@')[-1]}")


def _pg_exists(name: str) -> bool:
    admin = sa.create_engine(sa.engine.make_url(PG_URL).set(database="postgres"))
    try:
        with admin.connect() as conn:
            return bool(
                conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first()
            )
    finally:
        admin.dispose()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(engine: str, scale: float, saves: int, reflections: int, replace: bool) -> None:
    url = dataset_url(engine, scale)
    ensure_dataset(url, scale, replace)
    app = create_app({"DATABASE_URL": url, "ENV": "testing", "RATELIMIT_ENABLED": False})
    db = database(app)
    with db.session() as session:
        n_sequences = session.exec(select(sa.func.count()).select_from(Sequence)).one()
        n_learners = session.exec(
            sa.text("SELECT COUNT(DISTINCT learner_id) FROM protocol")
        ).scalar()
        n_structures = session.exec(
            sa.text("SELECT COUNT(*) FROM organisation WHERE kind = 'structure'")
        ).scalar()
        learner = session.exec(select(User).where(User.email == LEARNER)).one()
        protocol = session.exec(select(Protocol).where(Protocol.learner_id == learner.id)).one()
        comps = sorted(targeted_competence_ids(session, protocol.id))
    size = f"{n_structures} structures, {n_learners} learners, {n_sequences} sequences"
    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/connexion", data={"email": TUTOR, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.status_code
    path = f"/tablette/protocoles/{protocol.public_id}"
    page = client.get(f"{path}/situation").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def situation(client_id: str) -> dict:
        return {
            "csrf_token": token,
            "client_id": client_id,
            "occurred_at": (utcnow() - timedelta(minutes=30))
            .astimezone(TZ)
            .strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": "60",
            "autonomy": "accompanied",
            "competence_ids": [str(c) for c in comps[:2]],
            "place": "Domicile de Mme B.",
            "intent": "Préparer un repas adapté",
            "observations": "Bonne organisation, attention aux consignes d'hygiène.",
        }

    cpu: list[float] = []

    def timed(url_path: str, data: dict) -> float:
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.post(url_path, data=data)
        elapsed = (time.perf_counter() - start) * 1000
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 302, (response.status_code, response.data[:300])
        return elapsed

    for _ in range(10):  # warm-up: caches, prepared statements, connection pool
        timed(f"{path}/situation", situation(uuid.uuid4().hex))
    cpu.clear()
    times = [timed(f"{path}/situation", situation(uuid.uuid4().hex)) for _ in range(saves)]
    save_cpu = list(cpu)
    repeated_id = uuid.uuid4().hex
    timed(f"{path}/situation", situation(repeated_id))
    repeats = [timed(f"{path}/situation", situation(repeated_id)) for _ in range(50)]

    with db.session() as session:
        last = session.exec(
            select(Sequence.id)
            .where(Sequence.protocol_id == protocol.id, Sequence.kind == "situation")
            .order_by(Sequence.id.desc())
        ).first()
    refl = []
    for _ in range(reflections):
        refl.append(
            timed(
                f"{path}/reflexion",
                {
                    "csrf_token": token,
                    "client_id": uuid.uuid4().hex,
                    "occurred_at": utcnow().astimezone(TZ).strftime("%Y-%m-%dT%H:%M"),
                    "duration_minutes": "45",
                    "situation_ids": [str(last)],
                    "expected": "Un repas adapté au régime",
                    "learnt": "Lire la fiche de régime avant de commencer",
                },
            )
        )
    db.engine.dispose()

    label = f"engine={engine}, {size}, load {os.getloadavg()[0]:.1f}"
    print(f"sequence_save_p50 = {statistics.median(times):.1f} ms ({label}, n={saves})")
    print(f"sequence_save_p95 = {percentile(times, 0.95):.1f} ms ({label}, n={saves})")
    print(f"sequence_save_max = {max(times):.1f} ms ({label}, n={saves})")
    # CPU time of this process: the server's own work (with SQLite, the database's too),
    # less sensitive than wall time to other processes competing for the cores.
    print(f"sequence_save_cpu_p50 = {statistics.median(save_cpu):.1f} ms ({label}, n={saves})")
    print(f"sequence_save_cpu_p95 = {percentile(save_cpu, 0.95):.1f} ms ({label}, n={saves})")
    print(f"sequence_resubmit_p95 = {percentile(repeats, 0.95):.1f} ms ({label}, n=50)")
    if refl:
        print(f"reflection_save_p95 = {percentile(refl, 0.95):.1f} ms ({label}, n={reflections})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--reflections", type=int, default=100)
    parser.add_argument("--replace", action="store_true")
    parser.add_argument(
        "--without-rollup-hook",
        action="store_true",
        help="diagnosis only: skip the dashboards' rollup refresh to see its share of the time",
    )
    args = parser.parse_args()
    if args.without_rollup_hook:
        from afest.dashboards import rollups

        rollups.on_sequence_logged = lambda session, protocol_id: None
        rollups.on_assessment_written = lambda session, protocol_id: None
        print("# rollup hook disabled (diagnosis): figures below exclude the rollup refresh")
    print(f"# load average before the run: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    for engine in args.engines.split(","):
        run(engine.strip(), args.scale, args.saves, args.reflections, args.replace)


if __name__ == "__main__":
    main()
