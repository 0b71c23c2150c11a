"""Proof pack of one protocol with N signed sequences (100 unless told): wall time and peak
memory, of the PDF, of its seal and of the whole sealed ZIP.

Usage: .venv/bin/python bench/bench_proofpack.py [--engines sqlite,postgresql] [--runs 5]
           [--sequences 100] [--photos 20]

For each engine: a fresh database (SQLite file in a temporary folder; PostgreSQL database
afest_bench_proofpack_<random> on AFEST_BENCH_PG_URL, default the local server, dropped at the
end), migrated and seeded with the demo, plus one protocol of N/2 situations and N/2 reflexive
sequences, each signed by tutor and learner, two evaluations. Then the pack is built as the
download views build it (collect + HTML + PDF with page codes; collect + XLSX), `--runs`
times in a fresh child process (as a web worker: WeasyPrint warmed once first, as
config/gunicorn.conf.py has each worker do as it starts, the warm-up timed apart),
first/best/median/worst printed; then the PDF's PAdES seal alone, and the sealed ZIP as the
preuve.zip view builds it (afest.proof.documents: collect once, PDF, its seal, XLSX, CSV,
manifest and its CMS seal), its files included: with `--photos`, that many situations have a
tablet photo attached when they are logged (JPEG of 2016 x 1512 pixels of noise, about
1.9 MB each, checked and cleaned as the tablet's form does), read from the attachments'
storage into the ZIP. The ZIP's time also in CPU seconds of the process (what another
program's load on the machine changes least).
Memory: the Python heap peak during one PDF build (tracemalloc) and the child process's peak
resident size.
Targets: PDF ≤ 2 s, ≤ 200 MB; ZIP of 100 sequences and 20 photos ≤ 3 s.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from common import migrate, scratch_database, signed_protocol  # noqa: E402
from flask import render_template  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402
from sqlmodel import select  # noqa: E402

from afest import create_app  # noqa: E402
from afest.assessments import evaluations  # noqa: E402
from afest.core.database import database  # noqa: E402
from afest.costs import labels  # noqa: E402
from afest.models import (  # noqa: E402
    Autonomy,
    EvaluationKind,
    Protocol,
    ProtocolTutor,
    SequenceKind,
    SignerRole,
    utcnow,
)
from afest.proof import documents, proofpack, seal, spreadsheets  # noqa: E402
from afest.protocols import compliance  # noqa: E402
from afest.sequences import attachments, signing  # noqa: E402
from afest.sequences import operations as sequences  # noqa: E402

TZ = ZoneInfo("Europe/Paris")


def build_protocol(session, n_sequences: int, n_photos: int = 0) -> str:
    """A protocol in progress with n signed sequences (situation, reflection, ...), the first
    `n_photos` situations each with a tablet photo attached (as the tablet's form sends it:
    checked and cleaned by afest.sequences.attachments, part of the signed content)."""
    taken = photos(n_photos)
    made = signed_protocol(
        session,
        email="bench-learner@azur-aide.demo",
        title=f"AFEST banc d'essai — {n_sequences} séquences",
        password="afest-bench-2026",
        days=n_sequences + 10,
        planned_minutes=n_sequences * 120,
    )
    protocol, learner, tutor = made.protocol, made.learner, made.tutor
    comps, levels, start = made.competences, made.levels, made.start
    situation = None
    for i in range(n_sequences):
        day = start + timedelta(days=1 + i // 2)
        kind = SequenceKind.SITUATION if i % 2 == 0 else SequenceKind.REFLECTION
        data = sequences.SequenceData(
            client_id=f"bench-{i}",
            occurred_at=utcnow().replace(
                year=day.year, month=day.month, day=day.day, hour=8 + (i % 2) * 5
            ),
            duration_minutes=180 if kind == SequenceKind.SITUATION else 60,
            place="Chambre 12, unité Les Pins",
            autonomy=Autonomy.ACCOMPANIED if kind == SequenceKind.SITUATION else None,
            intent="Réaliser une toilette complète en respectant la pudeur et l'autonomie.",
            observations="Gestes sûrs, communication à travailler avec la personne.",
            expected="Toilette complète, transmissions écrites.",
            achieved="Toilette réalisée, transmission orale seulement.",
            learnt="Importance de la transmission écrite.",
            competence_ids=[comps[i % len(comps)]],
            situation_ids=[situation.id] if kind == SequenceKind.REFLECTION else [],
            levels={comps[i % len(comps)]: levels[2].id} if kind == SequenceKind.REFLECTION else {},
        )
        if kind == SequenceKind.SITUATION and taken:
            data.attachments = [attachments.prepare(f"IMG_{i:04d}.jpg", taken.pop())]
        seq, _ = sequences.log_sequence(
            session, actor_id=tutor.id, protocol=protocol, kind=kind, tz=TZ, data=data
        )
        for role, who in ((SignerRole.TUTOR, tutor), (SignerRole.LEARNER, learner)):
            signing.sign_sequence(
                session, actor_id=who.id, protocol=protocol, sequence=seq, role=role, method="pin"
            )
        if kind == SequenceKind.SITUATION:
            situation = seq
    for k, kind in enumerate((EvaluationKind.INTERMEDIATE, EvaluationKind.FINAL)):
        evaluation = evaluations.create_evaluation(
            session,
            actor_id=tutor.id,
            protocol=protocol,
            client_id=f"bench-eval-{k}",
            kind=kind,
            evaluated_on=utcnow().date() - timedelta(days=2 - k),
            summary="Bilan.",
            levels=dict.fromkeys(comps, levels[2].id),
        )
        for role, who in ((SignerRole.TUTOR, tutor), (SignerRole.LEARNER, learner)):
            evaluations.sign_evaluation(
                session,
                actor_id=who.id,
                protocol=protocol,
                evaluation=evaluation,
                role=role,
                method="password",
            )
    return protocol.public_id


def load(session, public_id: str) -> Protocol:
    return session.exec(
        select(Protocol)
        .where(Protocol.public_id == public_id)
        .options(
            selectinload(Protocol.learner),
            selectinload(Protocol.structure),
            selectinload(Protocol.referential),
            selectinload(Protocol.tutors).selectinload(ProtocolTutor.tutor),
        )
    ).one()


def build_pdf(app, session, public_id: str) -> tuple[bytes, int]:
    protocol = load(session, public_id)
    pack = proofpack.collect(
        session, protocol, settings=compliance.Settings.from_config(app.config)
    )
    html = render_template(
        "proofpack/pack.html", pack=pack, CHECK_LABELS=compliance.STATE_LABELS, **labels.words()
    )
    pdf = proofpack.render_pdf(
        session,
        pack,
        html,
        secret=app.config["SECRET_KEY"],
        base_url="http://localhost/",
        label="Code :",
    )
    return pdf, len(pack.view.sequences)


def build_xlsx(app, session, public_id: str) -> bytes:
    protocol = load(session, public_id)
    return spreadsheets.xlsx_bytes(proofpack.collect(session, protocol))


def photos(count: int) -> list[bytes]:
    """Tablet photos: JPEG of 2016 x 1512 pixels of noise, which no compressor shrinks, as
    none shrinks a photo (about 1.9 MB each)."""
    from PIL import Image

    made = []
    for i in range(count):
        image = Image.effect_noise((2016, 1512), 40 + i).convert("RGB")
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        made.append(out.getvalue())
    return made


def build_zip(app, session, public_id: str) -> bytes:
    """As the preuve.zip view builds it (documents.pack_zip), its attachments included."""
    return documents.pack_zip(session, documents.pack_of(session, load(session, public_id)))


def _config(url: str) -> dict:
    seal_dir = Path(tempfile.gettempdir()) / "afest-bench-seal"  # a self-signed seal, kept
    return {
        "DATABASE_URL": url,
        "ENV": "testing",
        "TESTING": True,
        "SEAL_DIR": str(seal_dir),
        # where the child process that measures finds the photos the parent attached
        "ATTACHMENTS_URL": str(Path(tempfile.gettempdir()) / "afest-bench-attachments"),
    }


def measure(url: str, public_id: str, runs: int, n_photos: int) -> None:
    """In a fresh process (as a web worker would be): build the pack `runs` times, print
    timings, the Python heap peak of one PDF build and this process's peak resident size."""
    app = create_app(_config(url))
    db = database(app)
    warm_up = proofpack.warm_up() + seal.warm_up()  # what each gunicorn worker does at start
    pdf_times, xlsx_times = [], []
    with app.test_request_context("/"), db.session() as session:
        for _ in range(runs):
            t0 = time.perf_counter()
            pdf, count = build_pdf(app, session, public_id)
            pdf_times.append(time.perf_counter() - t0)
            session.expunge_all()
            t0 = time.perf_counter()
            xlsx = build_xlsx(app, session, public_id)
            xlsx_times.append(time.perf_counter() - t0)
            session.expunge_all()
        seal_times, zip_times, zip_cpu = [], [], []
        sealer = seal.sealer(app)
        for _ in range(runs):
            t0 = time.perf_counter()
            seal.seal(pdf, using=sealer)
            seal_times.append(time.perf_counter() - t0)
            t0, c0 = time.perf_counter(), time.process_time()
            archive = build_zip(app, session, public_id)
            zip_times.append(time.perf_counter() - t0)
            zip_cpu.append(time.process_time() - c0)
            session.expunge_all()
        tracemalloc.start()
        build_pdf(app, session, public_id)
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB
    db.engine.dispose()
    engine = sa.engine.make_url(url).get_backend_name()
    label = f"{engine}, {count} sequences"
    zip_label = f"{label}, {n_photos} photos" if n_photos else label
    print(f"proofpack_worker_warm_up[{label}] = {warm_up:.3f} s  (once per worker, at start)")
    print(f"proofpack_pdf_first[{label}] = {pdf_times[0]:.3f} s  (the worker's first pack)")
    print(f"proofpack_pdf_best[{label}] = {min(pdf_times):.3f} s")
    print(f"proofpack_pdf_median[{label}] = {sorted(pdf_times)[len(pdf_times) // 2]:.3f} s")
    print(f"proofpack_pdf_worst[{label}] = {max(pdf_times):.3f} s")
    print(f"proofpack_pdf_size[{label}] = {len(pdf) / 1024:.0f} KiB")
    print(f"proofpack_xlsx_best[{label}] = {min(xlsx_times):.3f} s")
    print(f"proofpack_xlsx_size[{label}] = {len(xlsx) / 1024:.0f} KiB")
    print(f"proofpack_seal_first[{label}] = {seal_times[0]:.3f} s  (the signer's first use)")
    print(f"proofpack_seal_best[{label}] = {min(seal_times):.3f} s")
    print(f"proofpack_zip_best[{zip_label}] = {min(zip_times):.3f} s")
    print(f"proofpack_zip_median[{zip_label}] = {sorted(zip_times)[len(zip_times) // 2]:.3f} s")
    print(f"proofpack_zip_cpu_median[{zip_label}] = {sorted(zip_cpu)[len(zip_cpu) // 2]:.3f} s")
    print(f"proofpack_zip_size[{zip_label}] = {len(archive) / 1024:.0f} KiB")
    print(f"proofpack_pdf_python_heap_peak[{label}] = {heap_peak / 2**20:.1f} MB")
    print(f"proofpack_worker_peak_rss[{label}] = {rss_peak:.1f} MB")


def run(engine: str, runs: int, n_sequences: int, n_photos: int) -> None:
    """Prepare a database, then measure in a child process that only builds packs."""
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        url, drop = scratch_database(engine, Path(tmp), "proofpack")
        try:
            app = create_app(_config(url))
            db = database(app)
            with db.engine.begin() as conn:
                migrate(conn)
            from afest import demo

            with app.app_context(), db.session(write=True) as session:
                demo.seed(session)
                public_id = build_protocol(session, n_sequences, n_photos)
                session.commit()
            db.engine.dispose()
            subprocess.run(
                [sys.executable, __file__, "--measure", url, public_id, "--runs", str(runs)]
                + ["--photos", str(n_photos)],
                check=True,
            )
        finally:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sequences", type=int, default=100, help="signed sequences (100)")
    parser.add_argument("--photos", type=int, default=20, help="photos attached (20)")
    parser.add_argument("--measure", nargs=2, metavar=("URL", "PROTOCOL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure[0], args.measure[1], args.runs, args.photos)
        return
    for engine in args.engines.split(","):
        run(engine.strip(), args.runs, args.sequences, args.photos)


if __name__ == "__main__":
    main()
