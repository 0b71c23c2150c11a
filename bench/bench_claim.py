"""Benchmark of a structure's funding claim (afest.proof.claims) on the national dataset.

The structure of bench/generate.py's national dataset whose protocols with a sequence since
1 January 2026 are closest to 30, its claim from 1 January 2026 to today built by the job
the task queue runs (`claims.build`, in this process: what the consumer does), on each
engine: the whole build (every protocol's sealed pack ZIP, the structure's statement as a
sealed PDF and a workbook, the sealed manifest, the file written), then the protocols, the
ZIP's size and the time per protocol. Target: 30 protocols in 60 s at most.

Usage: .venv/bin/python bench/bench_claim.py [--engines sqlite,postgresql] [--protocols 30]
Prints `name[engine,data] = value unit` lines; skips an engine whose dataset is missing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import dataset_exists, national_url  # noqa: E402

SINCE = date(2026, 1, 1)
TARGET_SECONDS = 60


def _structure(url: str, protocols: int) -> tuple[int, int]:
    """(structure id, protocols) closest to `protocols` active since SINCE."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT p.structure_id, COUNT(*) AS n FROM protocol p WHERE p.status != 'draft' "
                "AND EXISTS (SELECT 1 FROM sequence s WHERE s.protocol_id = p.id "
                "AND s.occurred_at >= :since) GROUP BY p.structure_id "
                "ORDER BY ABS(COUNT(*) - :n), p.structure_id LIMIT 1"
            ),
            {"since": SINCE, "n": protocols},
        ).one()
    engine.dispose()
    return row.structure_id, row.n


def run(engine: str, protocols: int) -> None:
    from afest import create_app
    from afest.core import clock, jobs
    from afest.core.database import database
    from afest.models import ClaimArchive, Organisation, User
    from afest.proof import claims, expenses

    url = national_url(engine)
    if not dataset_exists(url):
        print(f"# bench_claim: no national dataset for {engine}; see bench/generate.py")
        return
    structure_id, active = _structure(url, protocols)
    label = f"{engine},national"
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(
            {
                "DATABASE_URL": url,
                "ENV": "testing",
                "SEAL_DIR": os.path.join(scratch, "seal"),
                "CLAIMS_DIR": os.path.join(scratch, "claims"),
            }
        )
        jobs.huey.immediate = True
        db = database(app)
        with app.app_context():
            with db.session(write=True) as session:
                structure = session.get(Organisation, structure_id)
                asker = session.exec(sa.select(User.id).order_by(User.id).limit(1)).scalar()
                period = expenses.Period(SINCE, clock.today())
                claim = claims.ask(session, actor_id=asker, structure=structure, period=period)
                session.commit()
                claim_id = claim.public_id
            print(f"# engine {engine}: structure {structure_id}, {active} protocols active")
            print(f"# load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)", flush=True)
            start = time.perf_counter()
            state = claims.build(claim_id)
            seconds = time.perf_counter() - start
            with db.session(write=True) as session:
                claim = session.exec(
                    sa.select(ClaimArchive).where(ClaimArchive.public_id == claim_id)
                ).scalar_one()
                done, size = claim.done, claim.size
                session.delete(claim)  # the benchmark leaves the dataset as it found it
                session.commit()
        db.engine.dispose()
    assert state == "ready", state
    print(
        f"claim.build[{label}] = {seconds:.1f} s  ({done} protocols; "
        f"target <= {TARGET_SECONDS} s for 30)"
    )
    print(f"claim.per_protocol[{label}] = {seconds / max(done, 1):.2f} s")
    print(f"claim.zip_size[{label}] = {size / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--protocols", type=int, default=30)
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"sqlite", "postgresql"}:
        parser.error("--engines: sqlite, postgresql or both")
    if not 1 <= args.protocols <= 1000:
        parser.error("--protocols must be between 1 and 1000")
    for engine in engines:
        run(engine, args.protocols)


if __name__ == "__main__":
    main()
