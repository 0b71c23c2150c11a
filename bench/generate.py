"""Generate a national-size afest dataset into SQLite or PostgreSQL, fast.

Usage (from the repository root):

    .venv/bin/python bench/generate.py --url sqlite:///bench/out/national.sqlite
    .venv/bin/python bench/generate.py \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/afest_bench_full --scale 1.0
    .venv/bin/python bench/generate.py --url sqlite:///bench/out/tenth.sqlite --scale 0.1

Options:
    --url URL           target database (SQLite file or PostgreSQL database). The database is
                        created if missing (PostgreSQL: only names starting with afest_bench_),
                        migrated with `alembic upgrade heads`, and must hold no protocol yet
                        (use --replace to drop and recreate it first).
    --scale X           1.0 = 50,000 learners and 1,500,000 sequences (default); 0.1 = a tenth
                        of the learners, protocols and sequences. The number of structures
                        (--structures, default 2,000) and OPCOs does not scale, so that a
                        dashboard shows the same structures at every scale and only the volume
                        of activity behind them changes.
    --structures N      number of employer structures (default 2000).
    --seed N            random seed (default 2026): the same arguments give the same data.
    --no-rollups        do not fill the dashboard rollup tables afterwards.
    --replace           drop and recreate the database first.

What is generated, with distributions chosen to look like the field (DOMAIN.md):
    11 OPCOs (Uniformation and OPCO Santé fund most health and social care structures);
    structures over 100 départements (weighted like the population), categories EHPAD /
    SAAD / ESMS / hospital, sizes heavy-tailed (a few large employers, many small ones);
    one manager and 1-6 tutors per structure; learners; 1-3 protocols per learner over the
    4 bundled référentiels (DEAS, DEAES, TP ADVF, home help), statuses by age (older ones
    completed or stopped, recent ones draft / awaiting signatures / in progress); a planned
    schedule of situation + reflection pairs; sequences done (1 % amended); competence
    assessments (initial positioning, reflexive sequences, evaluations); intermediate and
    final evaluations; a few protocols missing one of the four legal conditions; 20 cohorts;
    VAE pathways for ~15 % of learners with their milestone history and jury results.
    Accounts: conseil@<opco-code>.bench (OPCO) and consultant@cohort-NN.bench (consultant),
    password "afest-bench-2026". Signatures and audit entries are not generated.

Rows are written with executemany (SQLite) or COPY (PostgreSQL), never one ORM object per
row. The function `generate()` is importable by the benchmarks.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_PASSWORD = "afest-bench-2026"  # noqa: S105 (benchmark data only)
FULL_LEARNERS = 50_000
FULL_SEQUENCES = 1_500_000
TODAY = date(2026, 11, 1)  # fixed, so that the data does not depend on the day it is made

OPCOS = [
    ("Uniformation", "UNIFORMATION", 45),
    ("OPCO Santé", "OPCO-SANTE", 38),
    ("AKTO", "AKTO", 4),
    ("Atlas", "ATLAS", 2),
    ("OPCO EP", "OPCO-EP", 3),
    ("OPCO 2i", "OPCO-2I", 1),
    ("Constructys", "CONSTRUCTYS", 1),
    ("OCAPIAT", "OCAPIAT", 1),
    ("OPCO Mobilités", "OPCO-MOBILITES", 1),
    ("AFDAS", "AFDAS", 1),
    ("OPCO Commerce", "OPCO-COMMERCE", 3),
]
BIG_DEPTS = ["75", "13", "59", "69", "92", "93", "33", "94", "31", "44", "06", "67", "34", "62"]
CATEGORIES = [("EHPAD", 45), ("SAAD", 30), ("ESMS", 15), ("Centre hospitalier", 10)]
# référentiel code → weight by structure category
REF_WEIGHTS = {
    "EHPAD": {"RNCP35830": 55, "RNCP36004": 35, "RNCP37715": 5, "AAD-AFEST": 5},
    "SAAD": {"RNCP35830": 5, "RNCP36004": 30, "RNCP37715": 35, "AAD-AFEST": 30},
    "ESMS": {"RNCP35830": 25, "RNCP36004": 60, "RNCP37715": 10, "AAD-AFEST": 5},
    "Centre hospitalier": {"RNCP35830": 85, "RNCP36004": 10, "RNCP37715": 5, "AAD-AFEST": 0},
}
VAE_PATH = [
    "projet",
    "validation",
    "prise_en_charge",
    "parcours_confirme",
    "faisabilite_envoyee",
    "faisabilite_complete",
    "faisabilite_recevable",
    "validation_redigee",
    "validation_envoyee",
    "preparation_oral",
    "jury_planifie",
    "jury_resultat",
    "certification",
]


@dataclass
class Ids:
    """Next id per table: rows are inserted with explicit ids so that FKs are known."""

    counters: dict[str, int] = field(default_factory=dict)

    def next(self, table: str) -> int:
        value = self.counters.get(table, 0) + 1
        self.counters[table] = value
        return value


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class Writer:
    """Bulk writer: executemany on SQLite, COPY on PostgreSQL, in chunks."""

    def __init__(self, conn: sa.Connection):
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    def write(self, table: str, columns: tuple[str, ...], rows) -> None:
        raw = self.conn.connection.dbapi_connection
        cols = ", ".join(f'"{c}"' for c in columns)
        n = 0
        if self.pg:
            with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        else:
            marks = ", ".join("?" for _ in columns)
            sql = f'INSERT INTO "{table}" ({cols}) VALUES ({marks})'
            cur = raw.cursor()
            chunk = []
            for row in rows:
                chunk.append(tuple(_sqlite_value(v) for v in row))
                if len(chunk) >= 50_000:
                    cur.executemany(sql, chunk)
                    n += len(chunk)
                    chunk = []
            if chunk:
                cur.executemany(sql, chunk)
                n += len(chunk)
            cur.close()
        self.counts[table] = self.counts.get(table, 0) + n


def _weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


def _public_id(rng: random.Random) -> str:
    return "".join(
        rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=16)
    )


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def prepare_database(url: str, *, replace: bool) -> sa.Engine:
    """Create (or recreate) the database, migrate it, and return an engine on it."""

    from afest.core.database import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        name = parsed.database or ""
        if not name.startswith("afest_bench_"):
            raise SystemExit("PostgreSQL bench databases must be named afest_bench_*")
        admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if exists and replace:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
    elif parsed.database and replace:
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
    engine = make_engine(url)
    from common import migrate

    with engine.begin() as conn:
        migrate(conn)
    return engine


def _referentials(engine: sa.Engine) -> dict[str, dict]:
    """Import the bundled référentiels through the service; return their ids by code."""
    from sqlmodel import Session, select

    from afest.models import Competence, CompetenceBlock, Level, Referential
    from afest.referentials import operations as referentials

    out = {}
    with Session(engine) as session:
        for code, document in referentials.bundled().items():
            ref = session.exec(select(Referential).where(Referential.code == code)).first()
            if ref is None:
                ref = referentials.import_json(session, actor_id=None, data=document)
            session.flush()
            blocks: dict[int, list[int]] = {}
            for comp_id, block_id in session.exec(
                select(Competence.id, Competence.block_id)
                .join(CompetenceBlock)
                .where(CompetenceBlock.referential_id == ref.id)
                .order_by(CompetenceBlock.position, Competence.position)
            ):
                blocks.setdefault(block_id, []).append(comp_id)
            levels = list(
                session.exec(
                    select(Level.id).where(Level.referential_id == ref.id).order_by(Level.rank)
                )
            )
            block_info = {
                b.id: (b.code, b.title)
                for b in session.exec(
                    select(CompetenceBlock).where(CompetenceBlock.referential_id == ref.id)
                )
            }
            comp_info = {
                c.id: (c.code, c.title)
                for c in session.exec(
                    select(Competence)
                    .join(CompetenceBlock)
                    .where(CompetenceBlock.referential_id == ref.id)
                )
            }
            out[code] = {
                "id": ref.id,
                "blocks": blocks,
                "levels": levels,
                "block_info": block_info,
                "comp_info": comp_info,
            }
        session.commit()
    return out


def _max_ids(conn: sa.Connection) -> Ids:
    ids = Ids()
    for table in ("organisation", "user", "roleassignment", "cohort"):
        ids.counters[table] = conn.execute(
            sa.text(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        ).scalar()
    return ids


def generate(
    url: str,
    *,
    scale: float = 1.0,
    structures: int = 2000,
    seed: int = 2026,
    rollups: bool = True,
    replace: bool = False,
    log=print,
) -> dict[str, int]:
    """Fill the database at `url`; return the number of rows written per table."""
    from afest.accounts import operations as accounts

    t0 = time.perf_counter()
    engine = prepare_database(url, replace=replace)
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT COUNT(*) FROM protocol")).scalar():
            raise SystemExit(f"{url} already holds protocols: use --replace")
    refs = _referentials(engine)
    rng = random.Random(seed)
    password_hash = accounts.hash_secret(BENCH_PASSWORD)
    now = _at(TODAY, 8)
    n_learners = max(30, round(FULL_LEARNERS * scale))
    target_sequences = round(FULL_SEQUENCES * scale)

    with engine.begin() as conn:
        ids = _max_ids(conn)
        w = Writer(conn)

        # --- organisations ----------------------------------------------------------------
        org_cols = (
            "id",
            "public_id",
            "name",
            "kind",
            "siret",
            "departement",
            "branch",
            "category",
            "code",
            "opco_id",
            "created_at",
        )
        opcos = []
        org_rows = []
        for name, code, weight in OPCOS:
            oid = ids.next("organisation")
            opcos.append((oid, code, weight))
            org_rows.append(
                (oid, _public_id(rng), name, "opco", None, None, None, None, f"B-{code}", None, now)
            )
        support = ids.next("organisation")
        org_rows.append(
            (
                support,
                _public_id(rng),
                "Aract (bench)",
                "support_body",
                None,
                None,
                None,
                None,
                "B-ARACT",
                None,
                now,
            )
        )
        depts = [f"{d:02d}" for d in range(1, 96) if d != 20] + ["2A", "2B", "971", "972", "974"]
        dept_weights = [8 if d in BIG_DEPTS else 1 + rng.random() * 2 for d in depts]
        structs = []  # (id, opco_id, category, dept, size_weight)
        for k in range(structures):
            sid = ids.next("organisation")
            category = _weighted(rng, CATEGORIES)
            dept = rng.choices(depts, weights=dept_weights)[0]
            opco_id = _weighted(rng, [(o[0], o[2]) for o in opcos])
            size = rng.paretovariate(1.6)
            structs.append((sid, opco_id, category, dept, size))
            org_rows.append(
                (
                    sid,
                    _public_id(rng),
                    f"{category} bench {k + 1:04d}",
                    "structure",
                    f"9{k:013d}",
                    dept,
                    "Sanitaire, social et médico-social",
                    category,
                    None,
                    opco_id,
                    now,
                )
            )
        w.write("organisation", org_cols, org_rows)

        # --- people -------------------------------------------------------------------------
        user_cols = (
            "id",
            "public_id",
            "email",
            "full_name",
            "password_hash",
            "pin_hash",
            "is_active",
            "locale",
            "created_at",
        )
        role_cols = ("id", "user_id", "role", "organisation_id", "created_at")
        users, roles = [], []

        def person(email: str, name: str, role: str, org_id: int | None) -> int:
            uid = ids.next("user")
            users.append((uid, _public_id(rng), email, name, password_hash, None, True, None, now))
            roles.append((ids.next("roleassignment"), uid, role, org_id, now))
            return uid

        for oid, code, _ in opcos:
            person(f"conseil@{code.lower()}.bench", f"Conseil {code}", "opco", oid)
        total_size = sum(s[4] for s in structs)
        learners_of: dict[int, list[int]] = {}
        tutors_of: dict[int, list[int]] = {}
        managers: dict[int, int] = {}
        remaining = n_learners
        for i, (sid, _opco, _cat, _dept, size) in enumerate(structs):
            share = remaining if i == len(structs) - 1 else round(n_learners * size / total_size)
            share = max(0, min(share, remaining))
            remaining -= share
            managers[sid] = person(f"direction@s{sid}.bench", f"Direction {sid}", "manager", sid)
            tutors_of[sid] = [
                person(f"tuteur{t}@s{sid}.bench", f"Tuteur {t} {sid}", "tutor", sid)
                for t in range(min(6, 1 + share // 15))
            ]
            learners_of[sid] = [
                person(f"a{n}@s{sid}.bench", f"Apprenant {n} {sid}", "learner", sid)
                for n in range(share)
            ]
        # cohorts: 20 programmes of 10-30 structures each, one consultant each
        cohort_cols = (
            "id",
            "public_id",
            "code",
            "name",
            "description",
            "support_body_id",
            "funder_id",
            "starts_on",
            "ends_on",
            "created_at",
        )
        cohort_rows, cohort_struct, cohort_cons = [], [], []
        cohort_of: dict[int, int] = {}
        free = list(structs)
        rng.shuffle(free)
        for c in range(max(1, min(20, structures // 40))):
            cid = ids.next("cohort")
            members = [free.pop() for _ in range(rng.randint(10, 30)) if free]
            cohort_rows.append(
                (
                    cid,
                    _public_id(rng),
                    f"BENCH-COHORT-{c + 1:02d}",
                    f"Cohorte bench {c + 1}",
                    "",
                    support,
                    members[0][1],
                    date(2024, 1, 1),
                    date(2027, 6, 30),
                    now,
                )
            )
            for m in members:
                cohort_struct.append((cid, m[0]))
                cohort_of[m[0]] = cid
            uid = person(
                f"consultant@cohort-{c + 1:02d}.bench", f"Consultant {c + 1}", "consultant", support
            )
            cohort_cons.append((cid, uid))
        w.write("user", user_cols, users)
        w.write("roleassignment", role_cols, roles)
        w.write("cohort", cohort_cols, cohort_rows)
        w.write("cohortstructure", ("cohort_id", "structure_id"), cohort_struct)
        w.write("cohortconsultant", ("cohort_id", "user_id"), cohort_cons)
        log(f"people: {len(users)} users ({time.perf_counter() - t0:.1f} s)")

        # --- protocols: plan them all, then share the sequences among them ------------------
        protos = []  # dicts
        first_month = date(2023, 1, 1)
        span_days = (TODAY - first_month).days
        for sid, opco_id, category, _dept, _size in structs:
            ref_weights = list(REF_WEIGHTS[category].items())
            for learner in learners_of[sid]:
                n = _weighted(rng, [(1, 55), (2, 30), (3, 15)])
                code = _weighted(rng, ref_weights)
                start = first_month + timedelta(days=rng.randrange(span_days))
                for a in range(n):
                    start_a = min(start + timedelta(days=a * rng.randint(40, 120)), TODAY)
                    age = (TODAY - start_a).days
                    if age > 240:
                        status = _weighted(
                            rng, [("completed", 84), ("stopped", 12), ("in_progress", 4)]
                        )
                    elif age > 60:
                        status = _weighted(
                            rng,
                            [
                                ("completed", 35),
                                ("in_progress", 55),
                                ("stopped", 6),
                                ("awaiting_signatures", 4),
                            ],
                        )
                    else:
                        status = _weighted(
                            rng, [("in_progress", 45), ("draft", 30), ("awaiting_signatures", 25)]
                        )
                    pairs = rng.randint(4, 15)
                    ref = refs[code]
                    block_ids = list(ref["blocks"])
                    chosen = rng.sample(block_ids, min(len(block_ids), rng.choice([1, 1, 2, 3])))
                    protos.append(
                        {
                            "id": ids.next("protocol"),
                            "sid": sid,
                            "opco": opco_id,
                            "cohort": cohort_of.get(sid) if rng.random() < 0.8 else None,
                            "learner": learner,
                            "ref": code,
                            "blocks": chosen,
                            "start": start_a,
                            "days": pairs * 7,
                            "status": status,
                            "pairs": pairs,
                            "weight": {
                                "completed": 1.0,
                                "in_progress": rng.random(),
                                "stopped": rng.random() * 0.4,
                            }.get(status, 0.0)
                            * pairs,
                        }
                    )
        # share the target number of sequences in proportion to each protocol's weight
        total_weight = sum(p["weight"] for p in protos) or 1
        for p in protos:
            p["done"] = min(2 * p["pairs"], round(target_sequences * p["weight"] / total_weight))
        missing = target_sequences - sum(p["done"] for p in protos)
        active = [p for p in protos if p["weight"] > 0]
        while missing > 0 and active:
            p = rng.choice(active)
            p["done"] += 1
            p["pairs"] = max(p["pairs"], (p["done"] + 1) // 2)
            p["days"] = p["pairs"] * 7
            missing -= 1
        log(f"plan: {len(protos)} protocols ({time.perf_counter() - t0:.1f} s)")

        proto_cols = (
            "id",
            "public_id",
            "title",
            "objective",
            "activity_analysis",
            "work_situations",
            "planned_start",
            "planned_end",
            "planned_minutes",
            "learner_id",
            "structure_id",
            "funder_id",
            "cohort_id",
            "referential_id",
            "status",
            "stop_reason",
            "started_at",
            "ended_at",
            "created_by_id",
            "created_at",
            "updated_at",
        )

        def protocol_rows():
            for p in protos:
                start = p["start"]
                end = start + timedelta(days=p["days"])
                st = p["status"]
                analysis = "" if rng.random() < 0.04 else "Analyse de l'activité et adaptation."
                yield (
                    p["id"],
                    _public_id(rng),
                    f"AFEST {p['ref']}",
                    "Objectif",
                    analysis,
                    "Situations choisies",
                    start,
                    end,
                    p["pairs"] * 240,
                    p["learner"],
                    p["sid"],
                    p["opco"],
                    p["cohort"],
                    refs[p["ref"]]["id"],
                    st,
                    "Départ de la structure" if st == "stopped" else "",
                    _at(start, 8) if st in ("in_progress", "completed", "stopped") else None,
                    _at(min(end, TODAY), 17) if st in ("completed", "stopped") else None,
                    managers[p["sid"]],
                    _at(start - timedelta(days=10), 9),
                    _at(min(end, TODAY), 17),
                )

        w.write("protocol", proto_cols, protocol_rows())

        def tutor_rows():
            for p in protos:
                tutors = tutors_of[p["sid"]]
                late = rng.random() < 0.03  # condition 2 not met: designated after the start
                designated = _at(p["start"] + timedelta(days=5 if late else -3), 9)
                p["tutor"] = rng.choice(tutors)
                yield (
                    ids.next("protocoltutor"),
                    p["id"],
                    p["tutor"],
                    designated,
                    managers[p["sid"]],
                    None,
                )

        w.write(
            "protocoltutor",
            ("id", "protocol_id", "tutor_id", "designated_at", "designated_by_id", "ended_at"),
            tutor_rows(),
        )

        for p in protos:
            ref = refs[p["ref"]]
            p["comps"] = [(c, b) for b in p["blocks"] for c in ref["blocks"][b]][:8]

        def competence_rows():
            for p in protos:
                info = refs[p["ref"]]
                for pos, (c, b) in enumerate(p["comps"]):
                    yield (
                        ids.next("protocolcompetence"),
                        p["id"],
                        c,
                        b,
                        info["block_info"][b][0],
                        info["block_info"][b][1],
                        info["comp_info"][c][0],
                        info["comp_info"][c][1],
                        pos,
                    )

        w.write(
            "protocolcompetence",
            (
                "id",
                "protocol_id",
                "competence_id",
                "block_id",
                "block_code",
                "block_title",
                "competence_code",
                "competence_title",
                "position",
            ),
            competence_rows(),
        )

        def plan_rows():
            for p in protos:
                for i in range(p["pairs"]):
                    day = p["start"] + timedelta(days=min(i * 7, p["days"]))
                    yield (
                        ids.next("plannedsequence"),
                        p["id"],
                        "situation",
                        day,
                        f"Mise en situation {i + 1}",
                        180,
                        2 * i,
                    )
                    yield (
                        ids.next("plannedsequence"),
                        p["id"],
                        "reflection",
                        day + timedelta(days=1),
                        f"Séquence réflexive {i + 1}",
                        60,
                        2 * i + 1,
                    )

        w.write(
            "plannedsequence",
            ("id", "protocol_id", "kind", "planned_on", "title", "planned_minutes", "position"),
            plan_rows(),
        )
        log(f"protocols written ({time.perf_counter() - t0:.1f} s)")

        # --- sequences, their links, assessments, evaluations ------------------------------
        seq_cols = (
            "id",
            "public_id",
            "client_id",
            "protocol_id",
            "kind",
            "occurred_at",
            "duration_minutes",
            "place",
            "autonomy",
            "intent",
            "observations",
            "expected",
            "achieved",
            "learnt",
            "gaps",
            "learner_words",
            "next_step",
            "created_by_id",
            "created_at",
            "amends_id",
            "amendment_reason",
        )
        seq_comp, refl_sit, assessments, evaluations = [], [], [], []

        def assess(p, comp, level, source, seq_id, eval_id, at, by):
            assessments.append(
                (
                    ids.next("competenceassessment"),
                    p["id"],
                    comp,
                    level,
                    source,
                    seq_id,
                    eval_id,
                    at,
                    by,
                    "",
                )
            )

        def sequence_rows():
            for p in protos:
                levels = refs[p["ref"]]["levels"]
                tutor = p["tutor"]
                rank = {c: rng.choice((0, 0, 1)) for c, _ in p["comps"]}
                for c, _ in p["comps"]:
                    assess(
                        p,
                        c,
                        levels[rank[c]],
                        "initial",
                        None,
                        None,
                        _at(p["start"] - timedelta(days=5), 10),
                        tutor,
                    )
                skip_last = rng.random() < 0.06  # condition 3 not met: a situation left alone
                situation_id = None
                last_day = p["start"]
                for i in range(p["done"]):
                    day = min(p["start"] + timedelta(days=(i // 2) * 7 + (i % 2)), TODAY)
                    last_day = day
                    sid = ids.next("sequence")
                    comp, _block = p["comps"][(i // 2) % len(p["comps"])]
                    if i % 2 == 0:
                        situation_id = sid
                        seq_comp.append((sid, comp))
                        yield (
                            sid,
                            _public_id(rng),
                            f"g-{sid}",
                            p["id"],
                            "situation",
                            _at(day, 9, 30),
                            rng.choice((120, 150, 180, 210)),
                            "Unité",
                            "accompanied" if i < 4 else "alone",
                            "Intention pédagogique annoncée",
                            "Observations du tuteur",
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            tutor,
                            _at(day, 12),
                            None,
                            "",
                        )
                        if rng.random() < 0.01:  # corrected after signature
                            aid = ids.next("sequence")
                            seq_comp.append((aid, comp))
                            situation_id = aid
                            yield (
                                aid,
                                _public_id(rng),
                                f"g-{aid}",
                                p["id"],
                                "situation",
                                _at(day, 9, 30),
                                150,
                                "Unité",
                                "alone",
                                "Intention pédagogique annoncée",
                                "Observations corrigées",
                                "",
                                "",
                                "",
                                "",
                                "",
                                "",
                                tutor,
                                _at(day, 18),
                                sid,
                                "Durée mal saisie",
                            )
                    else:
                        if skip_last and i >= p["done"] - 2:
                            continue
                        seq_comp.append((sid, comp))
                        refl_sit.append((sid, situation_id))
                        rank[comp] = min(rank[comp] + 1, len(levels) - 1)
                        assess(
                            p, comp, levels[rank[comp]], "sequence", sid, None, _at(day, 14), tutor
                        )
                        yield (
                            sid,
                            _public_id(rng),
                            f"g-{sid}",
                            p["id"],
                            "reflection",
                            _at(day, 14),
                            rng.choice((45, 60, 90)),
                            "Bureau",
                            None,
                            "",
                            "",
                            "Attendus",
                            "Réalisations",
                            "Acquis",
                            "Écarts",
                            "Paroles de l'apprenant·e",
                            "Prochaine étape",
                            tutor,
                            _at(day, 15),
                            None,
                            "",
                        )
                evaluated = p["status"] == "completed" or (
                    p["status"] == "in_progress" and p["done"] > 6 and rng.random() < 0.5
                )
                if evaluated and rng.random() > 0.02:  # a few miss condition 4
                    eid = ids.next("evaluation")
                    kind = "final" if p["status"] == "completed" else "intermediate"
                    on = min(last_day + timedelta(days=1), TODAY)
                    evaluations.append(
                        (
                            eid,
                            _public_id(rng),
                            f"g-e{eid}",
                            p["id"],
                            kind,
                            on,
                            "Bilan",
                            tutor,
                            _at(on, 16),
                            None,
                            "",
                        )
                    )
                    for c, _ in p["comps"]:
                        final = (
                            max(rank[c], 2) if kind == "final" and rng.random() < 0.85 else rank[c]
                        )
                        assess(p, c, levels[final], "evaluation", None, eid, _at(on, 16), tutor)

        w.write("sequence", seq_cols, sequence_rows())
        log(f"sequences: {w.counts['sequence']} ({time.perf_counter() - t0:.1f} s)")
        w.write("sequencecompetence", ("sequence_id", "competence_id"), seq_comp)
        w.write("reflectionsituation", ("reflection_id", "situation_id"), refl_sit)
        w.write(
            "evaluation",
            (
                "id",
                "public_id",
                "client_id",
                "protocol_id",
                "kind",
                "evaluated_on",
                "summary",
                "created_by_id",
                "created_at",
                "amends_id",
                "amendment_reason",
            ),
            evaluations,
        )
        w.write(
            "competenceassessment",
            (
                "id",
                "protocol_id",
                "competence_id",
                "level_id",
                "source",
                "sequence_id",
                "evaluation_id",
                "assessed_at",
                "assessed_by_id",
                "comment",
            ),
            assessments,
        )
        for rows in (seq_comp, refl_sit, assessments):
            rows.clear()
        log(f"assessments written ({time.perf_counter() - t0:.1f} s)")

        # --- VAE pathways ---------------------------------------------------------------------
        pathways, milestones, block_results = [], [], []
        first_ref = {}
        for p in protos:
            first_ref.setdefault(p["learner"], p)
        for learner, p in first_ref.items():
            if rng.random() >= 0.15:
                continue
            pid = ids.next("vaepathway")
            ref = refs[p["ref"]]
            reached = rng.choices(
                range(1, len(VAE_PATH) + 1), weights=[10, 12, 12, 10, 9, 8, 8, 7, 6, 5, 5, 4, 4]
            )[0]
            states = VAE_PATH[:reached]
            abandoned = reached < 11 and rng.random() < 0.12
            jury = None
            day = p["start"] - timedelta(days=60)
            consultant = None
            for st in states + (["abandon"] if abandoned else []):
                day = min(day + timedelta(days=rng.randint(10, 40)), TODAY)
                mid = ids.next("vaemilestone")
                result = None
                if st == "jury_resultat":
                    result = _weighted(
                        rng, [("success", 60), ("partial_success", 30), ("failure", 10)]
                    )
                    jury = result
                    for b in ref["blocks"]:
                        outcome = (
                            "validated"
                            if result == "success"
                            or (result == "partial_success" and rng.random() < 0.6)
                            else "not_validated"
                        )
                        block_results.append((pid, b, outcome, mid))
                if st == "certification" and jury == "failure":
                    break
                milestones.append(
                    (
                        mid,
                        pid,
                        st,
                        day,
                        managers[p["sid"]],
                        _at(day, 10),
                        "",
                        "Abandon" if st == "abandon" else "",
                        day + timedelta(days=20) if st == "jury_planifie" else None,
                        "DREETS" if st == "jury_planifie" else "",
                        result,
                    )
                )
                state = st
            pathways.append(
                (
                    pid,
                    _public_id(rng),
                    learner,
                    p["sid"],
                    p["cohort"],
                    ref["id"],
                    consultant,
                    state,
                    jury,
                    _at(p["start"] - timedelta(days=60), 9),
                )
            )
        w.write(
            "vaepathway",
            (
                "id",
                "public_id",
                "learner_id",
                "structure_id",
                "cohort_id",
                "referential_id",
                "consultant_id",
                "state",
                "jury_result",
                "created_at",
            ),
            pathways,
        )
        w.write(
            "vaemilestone",
            (
                "id",
                "pathway_id",
                "state",
                "occurred_on",
                "recorded_by_id",
                "recorded_at",
                "note",
                "reason",
                "jury_date",
                "jury_place",
                "jury_result",
            ),
            milestones,
        )
        w.write(
            "vaeblockresult", ("pathway_id", "block_id", "outcome", "milestone_id"), block_results
        )
        if w.pg:
            for table in (
                "organisation",
                "user",
                "roleassignment",
                "cohort",
                "protocol",
                "protocoltutor",
                "protocolcompetence",
                "plannedsequence",
                "sequence",
                "evaluation",
                "competenceassessment",
                "vaepathway",
                "vaemilestone",
            ):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
                )
        log(f"VAE written ({time.perf_counter() - t0:.1f} s)")

    from afest.dashboards import rollups as rollup_service

    # The database as autovacuum keeps it: the planner's statistics and, on PostgreSQL, the
    # visibility map that index-only scans read. Without the map, every amendment check of a
    # sequence read the table too: the API's pages of a national OPCO took 70 ms, not 35.
    rollup_service.refresh_statistics(engine, whole_database=True)
    if rollups:
        from sqlmodel import Session

        with Session(engine) as session:
            rollup_service.rebuild(session)
            session.commit()
        log(f"rollups rebuilt ({time.perf_counter() - t0:.1f} s)")
    engine.dispose()
    w.counts["seconds"] = round(time.perf_counter() - t0)
    return w.counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--structures", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-rollups", action="store_true")
    parser.add_argument("--replace", action="store_true")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")
    if args.structures < 1:
        parser.error("--structures must be at least 1")
    counts = generate(
        args.url,
        scale=args.scale,
        structures=args.structures,
        seed=args.seed,
        rollups=not args.no_rollups,
        replace=args.replace,
    )
    for table, n in counts.items():
        print(f"{table} = {n}")


if __name__ == "__main__":
    main()
