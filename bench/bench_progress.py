"""Server time of the learner's progress page ("Mon parcours") with 200 sequences.

Usage: .venv/bin/python bench/bench_progress.py [--engines sqlite,postgresql] [--requests 200]

For each engine: a fresh database (SQLite file in a temporary folder; PostgreSQL database
afest_bench_progress_<random> on AFEST_BENCH_PG_URL, default the local server, dropped at the
end), migrated and seeded with the demo, plus one learner whose protocol (12 targeted
competences over several blocks, initial positioning) holds 200 sequences alternating
situation and reflexive sequence, each signed by tutor and learner except the last one (it
awaits the learner's countersignature). The page is requested through the real view with the
Flask test client (routing, login session, queries, template), after 20 warm-up requests;
p50, p95 and max of `--requests` requests are printed. Target: p95 ≤ 40 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import migrate, scratch_database, signed_protocol  # noqa: E402

from afest import create_app, demo  # noqa: E402
from afest.core.database import database  # noqa: E402
from afest.models import Autonomy, SequenceKind, SignerRole, User, utcnow  # noqa: E402
from afest.sequences import operations as sequences  # noqa: E402
from afest.sequences import signing  # noqa: E402

TZ = ZoneInfo("Europe/Paris")
PASSWORD = "afest-bench-2026"


def build_learner(session, n_sequences: int) -> User:
    """A learner with one protocol in progress holding `n_sequences` signed sequences."""
    made = signed_protocol(
        session,
        email="bench-progress@azur-aide.demo",
        title=f"AFEST banc d'essai — {n_sequences} séquences",
        password=PASSWORD,
        days=n_sequences // 2 + 10,
        planned_minutes=n_sequences * 120,
    )
    protocol, learner, tutor = made.protocol, made.learner, made.tutor
    comps, levels = made.competences, made.levels
    situation = None
    for i in range(n_sequences):
        when = utcnow().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(
            days=n_sequences // 2 + 5 - i // 2, hours=-(i % 2) * 4
        )
        comp = comps[(i // 2) % len(comps)]
        if i % 2 == 0:
            data = sequences.SequenceData(
                client_id=f"bench-progress-{i}",
                occurred_at=when,
                duration_minutes=150,
                place="Unité Les Oliviers",
                autonomy=Autonomy.ACCOMPANIED,
                intent="Aide à la toilette d'une résidente, en binôme.",
                observations="Gestes sûrs ; penser à expliquer chaque étape à la résidente.",
                competence_ids=[comp],
            )
            kind = SequenceKind.SITUATION
        else:
            data = sequences.SequenceData(
                client_id=f"bench-progress-{i}",
                occurred_at=when,
                duration_minutes=45,
                expected="Respect de la pudeur et du rythme de la personne.",
                achieved="Toilette complète réalisée, résidente rassurée.",
                learnt="Annoncer chaque geste avant de le faire.",
                gaps="Température de l'eau vérifiée trop tard.",
                learner_words="J'ai pris confiance, je parle davantage à la résidente.",
                next_step="Refaire seule la semaine prochaine.",
                situation_ids=[situation.id],
                levels={comp: levels[min(1 + i // (2 * len(comps)), len(levels) - 1)].id},
            )
            kind = SequenceKind.REFLECTION
        seq, _ = sequences.log_sequence(
            session, actor_id=tutor.id, protocol=protocol, kind=kind, data=data, tz=TZ
        )
        if kind == SequenceKind.SITUATION:
            situation = seq
        signing.sign_sequence(
            session,
            actor_id=tutor.id,
            protocol=protocol,
            sequence=seq,
            role=SignerRole.TUTOR,
            method="pin",
        )
        if i < n_sequences - 1:
            signing.sign_sequence(
                session,
                actor_id=learner.id,
                protocol=protocol,
                sequence=seq,
                role=SignerRole.LEARNER,
                method="password",
            )
    return learner


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[max(0, round(q * len(sorted_values)) - 1)]


def run(engine: str, n_sequences: int, n_requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = scratch_database(engine, Path(tmp), "progress")
        try:
            app = create_app(
                {
                    "DATABASE_URL": url,
                    "ENV": "testing",
                    "WTF_CSRF_ENABLED": False,
                    "RATELIMIT_ENABLED": False,
                }
            )
            db = database(app)
            with db.engine.begin() as conn:
                migrate(conn)
            with app.app_context(), db.session(write=True) as session:
                demo.seed(session)
                learner = build_learner(session, n_sequences)
                session.commit()
                public_id, email = learner.public_id, learner.email
            client = app.test_client()
            login = client.post("/connexion", data={"email": email, "password": PASSWORD})
            assert login.status_code == 302, login.status_code
            path = f"/parcours/{public_id}"
            for _ in range(20):
                assert client.get(path).status_code == 200
            times, cpu = [], []
            for _ in range(n_requests):
                t0, c0 = time.perf_counter(), time.process_time()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                assert response.status_code == 200
            times.sort()
            cpu.sort()
            label = f"[{engine}, {n_sequences} sequences, {n_requests} requests]"
            print(f"progress_page_p50{label} = {statistics.median(times):.1f} ms")
            print(f"progress_page_p95{label} = {percentile(times, 0.95):.1f} ms")
            print(f"progress_page_max{label} = {times[-1]:.1f} ms")
            # CPU time of this process (the server side of the request, the database too on
            # SQLite): what the page costs when the machine is not shared.
            print(f"progress_page_cpu_p95{label} = {percentile(cpu, 0.95):.1f} ms")
            print(f"load_average_1min{label} = {os.getloadavg()[0]:.2f} runnable")
            db.engine.dispose()
        finally:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--sequences", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    for engine in args.engines.split(","):
        run(engine.strip(), args.sequences, args.requests)


if __name__ == "__main__":
    main()
