"""The tutor's save and the OPCO dashboard over HTTP, under gunicorn, on the national dataset.

Usage: .venv/bin/python bench/bench_http.py [--engines sqlite,postgresql] [--scale 1.0]
       [--app-root DIR] [--saves 300] [--tutor-saves 100] [--reads 50] [--seconds 60]
       [--think 2] [--replace]

What is timed is what a browser waits for, from the client's side of a TCP connection to
127.0.0.1: one gunicorn instance started with the app root's config/gunicorn.conf.py
(production environment, its workers and threads) and, for a revision that has one, its job
consumer beside it (`flask --app afest afest worker`); a new connection a request as
bench/load.py opens them, redirects not followed.

- tablet save: POST /tablette/protocoles/<id>/situation as the tablet posts it, logged in,
  the CSRF token and fields taken from the form page (loaded once per tutor, not timed), a new
  client id each time. A 302/303 to the new sequence is a success; any other answer, a
  timeout or a refused connection is an error, counted and printed. First the demo tutor
  (tuteur@azur-aide.demo, on apprenant3's protocol) alone, saving back to back; then 20
  tutors at once (bench/load.py's charge-tuteur<i>@example.org, each on her own learner's
  protocol), twice:
  - "20 tutors back to back": closed loop, each saves again the instant she is answered.
    This is saturation, not what a tutor meets: the client, gunicorn, the database and the
    job consumer share the machine's cores, and the figure says how they hold up under as
    many saves as they can take.
  - "20 tutors paced 2s": each waits a think time (--think, 2 s) between an answer and her
    next save, the first saves staggered at random over the first think time; about 10
    saves/s offered, several times the national peak (1,500,000 sequences a year, real
    tutors save one every few minutes: a few saves per second at the busiest). The
    achieved rate is printed as `…_throughput`.
  Targets: p95 <= 60 ms alone, <= 300 ms with 20 tutors (both ways). Then the demo tutor
  alone again, saving and signing in one tap ("Enregistrer et signer", her PIN on the form:
  the PIN's check, argon2, is slow on purpose); a 302/303 to the situation's reflexive form
  is a success (`tablet_save_and_sign`, no target: what the signature adds is shown).
- OPCO dashboard: GET /tableaux/opco as the national data's Uniformation advisor
  (conseil@uniformation.bench: at scale 1.0, 940 structures and 35,000 protocols), one reader
  alone, then the same reader, reading back to back, while the 20 tutors save back to back
  (`…,20 tutors back to back saving`, and the saves `…,20 tutors back to back + dashboard`),
  then while they save paced (`…,20 tutors paced 2s saving`, `… + dashboard`).
Phases in that order, each bounded by its count and by --seconds; between them the rollups
the saves marked are left to settle (the dashboards settle what is left before they read).
Beside the wall times, `…_server_cpu` is the CPU the app's processes (gunicorn and the job
consumer; not PostgreSQL's) used over the phase, per request: on a machine shared with other
work it moves much less than the wall times do.

Data: bench/generate.py's national dataset (scale 1.0: 2,000 structures, 50,000 learners,
1,500,000 sequences; bench/out/national.sqlite and the PostgreSQL database afest_bench_full,
shared with the other benches, generated under `nice -n 10` when missing), copied with the
demo and bench/load.py's 20 tutors on top into bench/out/http-<scale>.sqlite and
afest_bench_http_<scale>. Each run serves a fresh copy of that (…-run), so that every run
and every revision starts from the same rows. `--replace` regenerates all of it.

`--app-root DIR` serves another checkout (DIR/.venv/bin/gunicorn, cwd DIR, its
config/gunicorn.conf.py), so the same command measures an older revision on the same data;
the data is prepared and the client runs with this checkout's code. Prints one
`name[engine,data,load] = value unit` line per figure.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import dataclasses
import http.client
import os
import random
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402  (its database preparation, HTTP client, login and percentiles)
import sqlalchemy as sa  # noqa: E402
from common import PG_URL  # noqa: E402
from generate import BENCH_PASSWORD  # noqa: E402

from tests.load_forms import forms_of  # noqa: E402

OUT = ROOT / "bench" / "out"
TUTOR = "tuteur@azur-aide.demo"
TUTOR_LEARNER = "apprenant3@azur-aide.demo"
OPCO = "conseil@uniformation.bench"  # bench/generate.py's, with its password
TUTORS = load.TUTORS  # bench/load.py's charge-tuteur<i>, each with a protocol in progress
TARGET_ALONE_MS, TARGET_LOADED_MS = 60, 300
TIMEOUT = 30.0  # seconds a request may take before it counts as an error
START_ATTEMPTS, START_RETRY_SECONDS = 3, 60


# --- data -----------------------------------------------------------------------------------


def _tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def _url(engine: str, name: str) -> str:
    """The SQLite file bench/out/<name>.sqlite, or the PostgreSQL database afest_bench_<name>."""
    if engine == "sqlite":
        return f"sqlite:///{OUT / f'{name}.sqlite'}"
    database = "afest_bench_" + name.replace("-", "_")
    return sa.engine.make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def source_url(engine: str, scale: float) -> str:
    """The generated data alone: the other benches' national dataset at scale 1.0."""
    if scale == 1.0:
        return _url(engine, "national" if engine == "sqlite" else "full")
    return _url(engine, f"national-{_tag(scale)}")


def _count(url: str, sql: str, params: dict | None = None) -> int | None:
    """One number from the database, or None when there is no such database or table."""
    if url.startswith("sqlite") and not Path(sa.engine.make_url(url).database).exists():
        return None
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params or {}).scalar()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def copy_database(source: str, target: str) -> None:
    """Replace `target` with a copy of `source`: SQLite's backup API (consistent with a WAL),
    or a PostgreSQL database made from the other as its template (a file copy)."""
    if source.startswith("sqlite"):
        src, dst = (sa.engine.make_url(u).database for u in (source, target))
        for suffix in ("", "-wal", "-shm", ".writer"):
            Path(f"{dst}{suffix}").unlink(missing_ok=True)
        with (
            contextlib.closing(sqlite3.connect(src)) as original,
            contextlib.closing(sqlite3.connect(dst)) as copy,
        ):
            original.backup(copy)
        return
    name, template = (sa.engine.make_url(u).database for u in (target, source))
    admin = sa.create_engine(
        sa.engine.make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        admin.dispose()


def generate(url: str, scale: float) -> None:
    """bench/generate.py into `url` (recreated), under nice: it takes the cores for minutes."""
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"generate-{Path(sa.engine.make_url(url).database).stem}.log"
    command = ["nice", "-n", "10", sys.executable, str(ROOT / "bench" / "generate.py")]
    command += ["--url", url, "--scale", f"{scale:g}", "--replace"]
    print(f"# generating {_where(url)} (scale {scale:g}); log in {log}", flush=True)
    t0 = time.perf_counter()
    with log.open("w") as out:
        rc = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    if rc:
        raise SystemExit(f"bench/generate.py failed ({rc}); see {log}")
    print(f"# generated {_where(url)} in {time.perf_counter() - t0:.0f} s", flush=True)


def _where(url: str) -> str:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(Path(parsed.database).relative_to(ROOT))
    return f"PostgreSQL {parsed.database}"


def ensure_dataset(engine: str, scale: float, replace: bool) -> str:
    """The prepared data (generated data + the demo + 20 tutors), built when missing;
    answers its URL."""
    OUT.mkdir(parents=True, exist_ok=True)
    source, prepared = source_url(engine, scale), _url(engine, f"http-{_tag(scale)}")
    ready = _count(
        prepared,
        'SELECT COUNT(*) FROM "user" WHERE email IN (:a, :b, :c)',
        {"a": TUTOR, "b": OPCO, "c": f"charge-tuteur{TUTORS - 1}@example.org"},
    )
    if ready == 3 and not replace:
        return prepared
    if replace or not _count(source, "SELECT COUNT(*) FROM protocol"):
        generate(source, scale)
    t0 = time.perf_counter()
    copy_database(source, prepared)
    load.prepare(prepared)  # migrate, seed the demo, add the 20 tutors and 5 consultants
    analyse = sa.create_engine(prepared, isolation_level="AUTOCOMMIT")
    with analyse.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    analyse.dispose()
    print(
        f"# prepared {_where(prepared)} from {_where(source)} (demo and {TUTORS} tutors on "
        f"top) in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    return prepared


def describe(url: str) -> tuple[str, str]:
    """The data's size in words and its Alembic revision."""
    counts = [
        _count(url, "SELECT COUNT(*) FROM organisation WHERE kind = 'structure'"),
        _count(url, "SELECT COUNT(*) FROM roleassignment WHERE role = 'learner'"),
        _count(url, "SELECT COUNT(*) FROM sequence"),
    ]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        revision = ",".join(
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        )
    engine.dispose()
    return "{:,} structures, {:,} learners, {:,} sequences".format(*counts), revision


# --- the app under gunicorn -----------------------------------------------------------------

SECRET_KEY = secrets.token_urlsafe(48)


@dataclass
class Server:
    """gunicorn on a port of 127.0.0.1 and, for a revision that has one, the consumer of its
    background jobs beside it (`flask --app afest afest worker`, afest/worker.py)."""

    port: int
    log: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:  # each the leader of its own process group
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)

    def cpu(self) -> float:
        """CPU seconds used so far by every process of the server (gunicorn's master and
        workers, the job consumer): less sensitive than wall time to a busy machine."""
        groups, total = {p.pid for p in self.processes}, 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) in groups:  # pgrp
                    total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / os.sysconf("SC_CLK_TCK")


RUNNING: list[Server] = []


def stop_all() -> None:
    while RUNNING:
        RUNNING.pop().stop()


def _stop_with_parent() -> None:
    """In the child before exec: it is sent SIGTERM if this process dies, even by SIGKILL
    (Linux; gunicorn's workers follow their master)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(app_root: Path, url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "AFEST_DATABASE_URL": url,
        "AFEST_ENV": "production",
        "AFEST_SECRET_KEY": SECRET_KEY,
        # rate limits and job queue: Redis databases of their own (bench/load.py has 13, 14)
        "AFEST_REDIS_URL": f"redis://127.0.0.1:6379/{11 if url.startswith('sqlite') else 12}",
        # every simulated person logs in from 127.0.0.1: the per-address limit is raised
        "AFEST_LOGIN_RATE_LIMIT": "10000 per minute",
        "PYTHONPATH": str(app_root),  # the app root's code, whatever its venv points at
    }
    for name in ("AFEST_TEST_DATABASE_URL", "AFEST_CONFIG", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(name, None)
    return env


def has_job_consumer(app_root: Path) -> bool:
    return (app_root / "afest" / "worker.py").exists()


def gunicorn_settings(app_root: Path, url: str) -> str:
    """Workers and threads the app root's config/gunicorn.conf.py gives this database."""
    code = (
        "import runpy; c = runpy.run_path('config/gunicorn.conf.py'); "
        "print(c['workers'], c['threads'], c['worker_class'])"
    )
    out = subprocess.run(
        [str(app_root / ".venv/bin/python"), "-c", code],
        cwd=app_root,
        env=_environment(app_root, url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if out.returncode:
        return "settings unknown"
    workers, threads, worker_class = out.stdout.split()
    jobs = "job consumer beside it" if has_job_consumer(app_root) else "no job consumer"
    return f"{workers} workers x {threads} threads ({worker_class}), {jobs}"


def _spawn(command: list[str], app_root: Path, url: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=app_root,
        env=_environment(app_root, url),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_stop_with_parent,  # no client thread runs yet
    )


def start_server(app_root: Path, url: str) -> Server:
    """gunicorn of the app root, serving and warmed (each worker logs "proof pack renderer
    ready"), and its job consumer if it has one; retried after a minute if it does not start
    (the code may be in the middle of a change)."""
    gunicorn = str(app_root / ".venv/bin/gunicorn")
    help_text = subprocess.run([gunicorn, "--help"], capture_output=True, text=True).stdout
    # gunicorn 27's control socket is one path per user: not shared with other instances
    private = ["--no-control-socket"] if "--no-control-socket" in help_text else []
    for attempt in range(1, START_ATTEMPTS + 1):
        port = _free_port()
        log = OUT / f"http-gunicorn-{port}.log"
        server = Server(port, log)
        RUNNING.append(server)
        config = str(app_root / "config" / "gunicorn.conf.py")
        command = [gunicorn, "--config", config, "--bind", f"127.0.0.1:{port}"]
        command += ["--graceful-timeout", "5", *private, "afest.wsgi:app"]
        server.processes.append(_spawn(command, app_root, url, log))
        if has_job_consumer(app_root):
            command = [str(app_root / ".venv/bin/flask"), "--app", "afest", "afest", "worker"]
            server.processes.append(_spawn(command, app_root, url, OUT / f"http-worker-{port}.log"))
        deadline, serving_since = time.monotonic() + 90, None
        while time.monotonic() < deadline and all(p.poll() is None for p in server.processes):
            text = log.read_text(errors="replace")
            workers = max(1, text.count("Booting worker"))
            with contextlib.suppress(OSError, http.client.HTTPException):
                if load.request(port, "GET", "/sante", timeout=2)[0] == 200:
                    serving_since = serving_since or time.monotonic()
            warmed = text.count("proof pack renderer ready") >= workers
            # warmed, or serving for 30 s (a revision that does not log its warm-up)
            if serving_since and (warmed or time.monotonic() - serving_since > 30):
                time.sleep(1)
                if all(p.poll() is None for p in server.processes):
                    return server
            time.sleep(0.3)
        RUNNING.remove(server)
        server.stop()
        logs = [log, OUT / f"http-worker-{port}.log"]
        for path in (p for p in logs if p.exists()):
            tail = "\n#   ".join(path.read_text(errors="replace").splitlines()[-5:])
            print(f"# did not start (attempt {attempt}); {path} ends:\n#   {tail}", flush=True)
        if attempt < START_ATTEMPTS:
            time.sleep(START_RETRY_SECONDS)
    raise SystemExit(f"the app of {app_root} did not start after {START_ATTEMPTS} attempts")


def revision_of(app_root: Path) -> str:
    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(app_root), *args], capture_output=True, text=True, timeout=30
        )
        return out.stdout.strip() if out.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "no git revision"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "afest", "config")
    n = len(changed.splitlines())
    return f"{head}" + (f" + {n} uncommitted changed files in afest/ or config/" if n else "")


# --- the clients ----------------------------------------------------------------------------


@dataclass
class Saver:
    """A tutor logged in, with the situation form of her learner loaded."""

    email: str
    cookies: dict[str, str]
    path: str
    fields: dict[str, str]
    competences: list[tuple[str, str]]
    signs: bool = False  # "Enregistrer et signer" with her PIN, instead of a save alone


def protocol_of(url: str, learner_email: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        public_id = conn.execute(
            sa.text(
                'SELECT p.public_id FROM protocol p JOIN "user" u ON u.id = p.learner_id '
                "WHERE u.email = :e AND p.status = 'in_progress' ORDER BY p.id"
            ),
            {"e": learner_email},
        ).scalar()
    engine.dispose()
    if public_id is None:
        raise SystemExit(f"no protocol in progress for {learner_email}")
    return public_id


def login(port: int, email: str, password: str = load.PASSWORD) -> dict[str, str]:
    """bench/load.py's login, with the password of the account's dataset."""
    cookies: dict[str, str] = {}
    _s, _h, page = load.request(port, "GET", "/connexion", cookies=cookies, timeout=TIMEOUT)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password})
    status, _h, _b = load.request(
        port, "POST", "/connexion", body=body, cookies=cookies, timeout=TIMEOUT
    )
    if status != 302:
        raise SystemExit(f"login {email} answered {status}")
    return cookies


def saver(port: int, email: str, protocol: str) -> Saver:
    cookies = login(port, email)
    path = f"/tablette/protocoles/{protocol}/situation"
    status, _h, page = load.request(port, "GET", path, cookies=cookies, timeout=TIMEOUT)
    forms = [f for f in forms_of(page) if "client_id" in dict(f["fields"])]
    if status != 200 or not forms:
        raise SystemExit(f"{email}: the situation form answered {status}")
    fields = dict(forms[0]["fields"])
    fields.update(
        duration_minutes="60",
        place="Chambre 12",
        intent="Aide à la toilette",
        autonomy="accompanied",
        observations="Bonne organisation, attention aux consignes d'hygiène.",
    )
    competences = [("competence_ids", v) for v in forms[0]["options"]["competence_ids"][:2]]
    return Saver(email, cookies, path, fields, competences)


def save(port: int, who: Saver) -> tuple[float, str | None]:
    """One save: its wall time and None, or its wall time and what went wrong."""
    signing = {"secret": load.PIN, "sign": "1"} if who.signs else {}
    body = urllib.parse.urlencode(
        [*{**who.fields, **signing, "client_id": uuid.uuid4().hex}.items(), *who.competences]
    )
    t0 = time.perf_counter()
    try:
        status, headers, _body = load.request(
            port, "POST", who.path, body=body, cookies=who.cookies, timeout=TIMEOUT
        )
    except (OSError, http.client.HTTPException) as exc:
        return time.perf_counter() - t0, f"save: {type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - t0
    location = headers.get("Location", "")
    expected = "/reflexion?saved=situation" if who.signs else "/sequences/"
    if status in (302, 303) and expected in location:
        return elapsed, None
    return elapsed, f"save answered {status}" + (f" to {location}" if location else "")


def read_dashboard(port: int, cookies: dict[str, str]) -> tuple[float, str | None, int]:
    t0 = time.perf_counter()
    try:
        status, _h, body = load.request(
            port, "GET", "/tableaux/opco", cookies=cookies, timeout=TIMEOUT
        )
    except (OSError, http.client.HTTPException) as exc:
        return time.perf_counter() - t0, f"dashboard: {type(exc).__name__}: {exc}", 0
    elapsed = time.perf_counter() - t0
    return elapsed, None if status == 200 else f"dashboard answered {status}", len(body)


@dataclass
class Sample:
    times: list[float] = field(default_factory=list)  # seconds, successes only
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    server_cpu: float | None = None  # CPU seconds of the server over the phase

    def add(self, elapsed: float, error: str | None) -> None:
        if error is None:
            self.times.append(elapsed)
        else:
            self.errors[error] += 1


def tutors_saving(
    port: int,
    savers: list[Saver],
    per_tutor: int,
    seconds: float,
    reader=None,
    think: float | None = None,
) -> tuple[Sample, Sample]:
    """The tutors at once, `per_tutor` saves each at most, for `seconds` at most. Without
    `think`, back to back (each saves again as soon as answered: the server's saturation);
    with it, paced as tutors are: each waits `think` seconds between an answer and her next
    save, the first save of each at a random moment of the first `think` seconds (the same
    moments every run), no save started that would begin after `seconds`. With `reader`
    (cookies), one OPCO reader reading the dashboard back to back as long as they save.
    Answers (saves, reads)."""
    saves, reads, lock = Sample(), Sample(), threading.Lock()
    deadline = time.monotonic() + seconds
    done = threading.Event()
    stagger = random.Random(len(savers))
    starts = [stagger.uniform(0, think) if think else 0.0 for _ in savers]

    def tutor(who: Saver, start: float) -> None:
        time.sleep(start)
        for _ in range(per_tutor):
            if time.monotonic() >= deadline:
                break
            elapsed, error = save(port, who)
            with lock:
                saves.add(elapsed, error)
            if think:
                if time.monotonic() + think >= deadline:
                    break
                time.sleep(think)

    def opco() -> None:
        while not done.is_set() and time.monotonic() < deadline:
            elapsed, error, _size = read_dashboard(port, reader)
            with lock:
                reads.add(elapsed, error)

    threads = [
        threading.Thread(target=tutor, args=(w, start), daemon=True)
        for w, start in zip(savers, starts, strict=True)
    ]
    extra = [threading.Thread(target=opco, daemon=True)] if reader is not None else []
    t0 = time.monotonic()
    for t in threads + extra:
        t.start()
    for t in threads:
        t.join()
    saves.seconds = time.monotonic() - t0
    done.set()
    for t in extra:
        t.join()
    reads.seconds = time.monotonic() - t0
    return saves, reads


def dashboard_alone(port: int, cookies: dict[str, str], reads: int, seconds: float) -> Sample:
    sample, deadline = Sample(), time.monotonic() + seconds
    t0 = time.monotonic()
    while len(sample.times) + sum(sample.errors.values()) < reads and time.monotonic() < deadline:
        elapsed, error, _size = read_dashboard(port, cookies)
        sample.add(elapsed, error)
    sample.seconds = time.monotonic() - t0
    return sample


# --- figures --------------------------------------------------------------------------------


def report(name: str, label: str, sample: Sample, what: str, target: float | None = None):
    n, errors = len(sample.times), sum(sample.errors.values())
    if n:
        p50 = 1000 * load.percentile(sample.times, 0.5)
        p95 = 1000 * load.percentile(sample.times, 0.95)
        met = ""
        if target is not None:
            met = f"  (target <= {target:g} ms: {'met' if p95 <= target else 'NOT MET'})"
        print(f"{name}_p50[{label}] = {p50:.1f} ms")
        print(f"{name}_p95[{label}] = {p95:.1f} ms{met}")
        print(f"{name}_max[{label}] = {1000 * max(sample.times):.1f} ms")
    load_average = os.getloadavg()[0]
    print(f"{name}_count[{label}] = {n} {what} in {sample.seconds:.1f} s (load {load_average:.1f})")
    if n and sample.seconds:
        print(f"{name}_throughput[{label}] = {n / sample.seconds:.1f} {what}/s")
    if n and sample.server_cpu is not None:
        per = what.rstrip("s")
        print(f"{name}_server_cpu[{label}] = {1000 * sample.server_cpu / n:.1f} ms per {per}")
    print(f"{name}_errors[{label}] = {errors} errors")
    for text, count in sample.errors.most_common(10):
        print(f"#   {count} x {text}")
    sys.stdout.flush()


def run(engine: str, scale: float, app_root: Path, args: argparse.Namespace) -> None:
    prepared = ensure_dataset(engine, scale, args.replace)
    url = _url(engine, f"http-{_tag(scale)}-run")
    t0 = time.perf_counter()
    copy_database(prepared, url)
    copied = time.perf_counter() - t0
    size, revision = describe(url)
    data = "national" if scale == 1.0 else f"national x{scale:g}"
    known = any(
        revision in p.read_text(errors="replace")
        for p in (app_root / "migrations" / "versions").glob("*.py")
    )
    print(f"# engine {engine}, data {data}: {size}; copied for this run in {copied:.0f} s")
    print(
        f"# app {app_root} at {revision_of(app_root)}; gunicorn "
        f"{gunicorn_settings(app_root, url)}; schema {revision}"
        + ("" if known else " (NOT among the app root's migrations)")
    )
    print(f"# load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)", flush=True)
    cpu0 = time.process_time()
    server = start_server(app_root, url)
    try:
        port = server.port
        alone = saver(port, TUTOR, protocol_of(url, TUTOR_LEARNER))
        savers = [
            saver(port, f"charge-tuteur{i}@example.org", protocol_of(url, learner))
            for i, learner in enumerate(f"charge-apprenant{i}@example.org" for i in range(TUTORS))
        ]
        reader = login(port, OPCO, BENCH_PASSWORD)
        # warm-up, not timed: every worker's pool, caches and templates
        for _ in range(10):
            save(port, alone)
        tutors_saving(port, savers, 1, args.seconds)
        _e, error, size_bytes = read_dashboard(port, reader)
        if error:
            raise SystemExit(f"{OPCO}: {error}")
        for _ in range(3):
            read_dashboard(port, reader)
        load.wait_settled(url, timeout=120)

        label = f"{engine},{data}"
        cpu = server.cpu()
        one, _r = tutors_saving(port, [alone], args.saves, args.seconds)
        one.server_cpu = server.cpu() - cpu
        report("tablet_save", f"{label},1 tutor", one, "saves", TARGET_ALONE_MS)
        load.wait_settled(url, timeout=120)

        # the same, saved and signed in one tap (her PIN checked: argon2, slow on purpose)
        signer = dataclasses.replace(alone, signs=True)
        cpu = server.cpu()
        signed, _r = tutors_saving(port, [signer], max(20, args.saves // 3), args.seconds)
        signed.server_cpu = server.cpu() - cpu
        report("tablet_save_and_sign", f"{label},1 tutor", signed, "saves")
        load.wait_settled(url, timeout=120)

        cpu = server.cpu()
        board = dashboard_alone(port, reader, args.reads, args.seconds)
        board.server_cpu = server.cpu() - cpu
        print(f"# the OPCO dashboard page: {size_bytes:,} bytes")
        report("opco_dashboard", f"{label},alone", board, "reads")

        # 20 tutors back to back (saturation), then paced by a think time (what a tutor meets)
        for mode, think in (("back to back", None), (f"paced {args.think:g}s", args.think)):
            if think:
                load.wait_settled(url, timeout=120)
                print(
                    f"# {TUTORS} tutors {mode}: about {TUTORS / think:.1f} saves/s offered "
                    f"({TUTORS} / {think:g} s, a little less as each save takes its time)",
                    flush=True,
                )
            cpu = server.cpu()
            many, _r = tutors_saving(port, savers, args.tutor_saves, args.seconds, think=think)
            many.server_cpu = server.cpu() - cpu
            load_label = f"{label},{TUTORS} tutors {mode}"
            report("tablet_save", load_label, many, "saves", TARGET_LOADED_MS)
            load.wait_settled(url, timeout=120)

            mixed, board = tutors_saving(
                port, savers, args.tutor_saves, args.seconds, reader, think=think
            )
            report("opco_dashboard", f"{load_label} saving", board, "reads")
            report("tablet_save", f"{load_label} + dashboard", mixed, "saves", TARGET_LOADED_MS)
    finally:
        RUNNING.remove(server)
        server.stop()
    for log in (server.log, OUT / f"http-worker-{server.port}.log"):
        if log.exists():
            text = log.read_text(errors="replace")
            counts = {
                w: text.count(w) for w in ("Traceback", "database is locked", "did not settle")
            }
            print(f"# {log}: " + ", ".join(f"{n} x {w!r}" for w, n in counts.items()))
    print(f"# client process CPU {time.process_time() - cpu0:.1f} s", flush=True)


def _interrupted(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--app-root", type=Path, default=ROOT, help="checkout to serve")
    parser.add_argument("--saves", type=int, default=300, help="saves of the tutor alone")
    parser.add_argument("--tutor-saves", type=int, default=100, help="saves per tutor of 20")
    parser.add_argument("--reads", type=int, default=50, help="dashboard reads alone")
    parser.add_argument("--seconds", type=float, default=60, help="bound of each phase")
    parser.add_argument(
        "--think", type=float, default=2.0, help="seconds each of the paced 20 tutors waits"
    )
    parser.add_argument("--replace", action="store_true", help="regenerate the data")
    args = parser.parse_args()
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"sqlite", "postgresql"}:
        parser.error("--engines: sqlite, postgresql or both")
    for option in ("saves", "tutor_saves", "reads"):
        if not 1 <= getattr(args, option) <= 100_000:
            parser.error(f"--{option.replace('_', '-')} must be between 1 and 100000")
    args.seconds = min(max(args.seconds, 1.0), 600.0)
    if not 0.01 <= args.think <= 600:
        parser.error("--think must be between 0.01 and 600 seconds")
    app_root = args.app_root.resolve()
    if not (app_root / ".venv/bin/gunicorn").exists() or not (app_root / "afest").is_dir():
        parser.error(f"{app_root} has no afest/ or no .venv/bin/gunicorn")
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with it ignored
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGHUP, _interrupted)
    atexit.register(stop_all)
    try:
        for engine in engines:
            run(engine, args.scale, app_root, args)
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None
    finally:
        stop_all()


if __name__ == "__main__":
    main()
