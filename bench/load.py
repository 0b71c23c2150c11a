"""Load and fault test: gunicorn instances of afest driven by tutors and consultants.

    .venv/bin/python bench/load.py [--seconds 30] [--engine postgresql|sqlite|both]

PostgreSQL: two gunicorn instances on one database; 20 tutors log and sign work situations
(each on "its" instance, failing over to the other when it stops answering) while 5
consultants read their home and dashboard pages; halfway through, one instance is killed
with SIGKILL. SQLite: one instance, the same workload, no kill.

Before the workload, the same run measures the throughput of each instance alone, one after
the other, with the same closed-loop client: a trivial page (/sante, 25 clients) and the
tutor's save (the 20 tutors each posting work situations back to back, every one with a new
client id; logged in and form loaded beforehand, not timed), in alternate 8-second windows,
2 of each. The ratio of the two is the issue's figure. At the end every acknowledged write (a
save answered by a redirect to the new sequence, a signature answered by a redirect) is looked
up in the database, and the dashboard rollups, once settled, are compared with a full rebuild.
All traffic stays on 127.0.0.1; every loop is bounded in time. Prints one `name = value unit`
line per figure.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import runpy
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.load_forms import forms_of  # noqa: E402  (the suite's form parser, shared)

OUT = ROOT / "bench" / "out"
PG_BASE = os.environ.get("AFEST_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = secrets.token_urlsafe(48)
PASSWORD = "afest-demo-2026"
PIN = "2468"
TUTORS, CONSULTANTS = 20, 5
WORKERS = 2  # per instance: one a core
# The saturated throughputs: ROUNDS windows of WINDOW seconds of each (trivial, then save).
ROUNDS, WINDOW = 2, 8.0
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
GUNICORN = runpy.run_path(str(GUNICORN_CONF))  # to print the settings the figures were taken with


def threads_of(url: str) -> int:
    """The threads a process the instances run with: config/gunicorn.conf.py's choice for the
    engine, or AFEST_THREADS (both reach gunicorn through the environment)."""
    return int(os.environ.get("AFEST_THREADS", GUNICORN["threads_for"](url)))


# --- database preparation -------------------------------------------------------------------


def prepare(url: str) -> None:
    """Migrate, seed the demo, and add 20 tutors each with a protocol in progress."""
    import sqlalchemy as sa
    from sqlmodel import Session, select

    from afest import demo
    from afest.accounts import operations as accounts
    from afest.core.database import make_engine
    from afest.models import (
        CohortConsultant,
        Organisation,
        OrgKind,
        Referential,
        Role,
        SignerRole,
        User,
    )
    from afest.protocols import drafting
    from afest.protocols import operations as protocols

    engine = make_engine(url)
    from common import migrate

    with engine.begin() as conn:
        migrate(conn)
    with Session(engine) as s:
        demo.seed(s)
        s.commit()
        opco = s.exec(select(Organisation).where(Organisation.code == "OPCO-SANTE")).one()
        ref = s.exec(select(Referential).where(Referential.code == "RNCP35830")).one()
        comp_ids = [c.id for b in ref.blocks for c in b.competences][:4]
        pw = accounts.hash_secret(PASSWORD)
        pin = accounts.hash_secret(PIN)
        structure = Organisation(
            name="EHPAD de charge",
            kind=OrgKind.STRUCTURE,
            siret="99999999900011",
            departement="13",
            opco_id=opco.id,
        )
        s.add(structure)
        s.flush()
        manager = accounts.create_user(
            s,
            actor_id=None,
            email="charge-direction@example.org",
            full_name="Direction charge",
            password="",
            password_hash=pw,
            roles=[(Role.MANAGER, structure.id)],
        )
        for i in range(TUTORS):
            tutor = accounts.create_user(
                s,
                actor_id=None,
                email=f"charge-tuteur{i}@example.org",
                full_name=f"Tuteur {i}",
                password="",
                password_hash=pw,
                pin_hash=pin,
                roles=[(Role.TUTOR, structure.id)],
            )
            learner = accounts.create_user(
                s,
                actor_id=None,
                email=f"charge-apprenant{i}@example.org",
                full_name=f"Apprenant {i}",
                password="",
                password_hash=pw,
                roles=[(Role.LEARNER, structure.id)],
            )
            start = date.today() - timedelta(days=10)
            protocol = drafting.create_protocol(
                s,
                actor_id=manager.id,
                learner=learner,
                structure=structure,
                referential_id=ref.id,
                title="AFEST charge",
                planned_start=start,
                planned_end=start + timedelta(days=90),
                competence_ids=comp_ids,
                tutor_ids=[tutor.id],
                activity_analysis="Analyse",
            )
            protocols.submit_for_signature(s, actor_id=manager.id, protocol=protocol)
            for role, who in (
                (SignerRole.STRUCTURE, manager),
                (SignerRole.TUTOR, tutor),
                (SignerRole.LEARNER, learner),
            ):
                protocols.sign_protocol(
                    s, actor_id=who.id, protocol=protocol, role=role, method="password"
                )
        cohort_id = s.exec(
            sa.text("SELECT id FROM cohort WHERE code = 'CARE-SKILLS-2026'")
        ).scalar_one()
        aract = s.exec(select(Organisation).where(Organisation.code == "ARACT-PACA")).one()
        for i in range(CONSULTANTS):
            user = accounts.create_user(
                s,
                actor_id=None,
                email=f"charge-consult{i}@example.org",
                full_name=f"Consultant {i}",
                password="",
                password_hash=pw,
                roles=[(Role.CONSULTANT, aract.id)],
            )
            s.add(CohortConsultant(cohort_id=cohort_id, user_id=user.id))
        s.commit()
        assert s.exec(select(User).where(User.email == "charge-tuteur0@example.org")).one()
    engine.dispose()


def fresh_database(engine: str) -> str:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    OUT.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        path = OUT / "load.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    base = make_url(PG_BASE)
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql('DROP DATABASE IF EXISTS "afest_bench_load" WITH (FORCE)')
        conn.exec_driver_sql('CREATE DATABASE "afest_bench_load"')
    admin.dispose()
    return base.set(database="afest_bench_load").render_as_string(hide_password=False)


# --- instances ------------------------------------------------------------------------------


@dataclass
class Instance:
    """gunicorn and the job consumer beside it (the jobs of one database)."""

    port: int
    process: subprocess.Popen
    log: Path
    worker: subprocess.Popen
    killed_at: float | None = None

    def kill(self) -> None:
        self.killed_at = time.monotonic()
        for process in (self.process, self.worker):
            os.killpg(process.pid, signal.SIGKILL)

    def stop(self) -> None:
        for process in (self.process, self.worker):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def start_instance(url: str, port: int) -> Instance:
    log = OUT / f"gunicorn-{port}.log"
    env = {
        **os.environ,
        "AFEST_DATABASE_URL": url,
        "AFEST_ENV": "production",
        "AFEST_SECRET_KEY": SECRET_KEY,
        # rate limits and the job queue, one Redis database per engine
        "AFEST_REDIS_URL": f"redis://127.0.0.1:6379/{14 if url.startswith('postgresql') else 13}",
        # Every simulated person logs in from 127.0.0.1: the per-address limit is raised.
        "AFEST_LOGIN_RATE_LIMIT": "10000 per minute",
    }
    env.pop("AFEST_TEST_DATABASE_URL", None)
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--config",
            str(GUNICORN_CONF),  # the production settings
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "5",
            "afest.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/flask"), "--app", "afest", "afest", "worker"],
        cwd=ROOT,
        env=env,
        stdout=(OUT / f"worker-{port}.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # serving, and both workers done warming their proof pack renderer:
        # nothing else competes for the cores while the figures are taken
        ready = log.read_text(errors="replace").count("proof pack renderer ready")
        try:
            status, _h, _b = request(port, "GET", "/sante", timeout=2)
            if status == 200 and ready >= WORKERS:
                return Instance(port, process, log, worker)
        except OSError:
            pass
        time.sleep(0.3)
    process.kill()
    worker.kill()
    raise SystemExit(f"gunicorn on port {port} did not start; see {log}")


# --- a minimal HTTP client ------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: str | None = None,
    cookies: dict[str, str] | None = None,
    timeout: float = 10,
):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Host": f"127.0.0.1:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        if cookies is not None:
            for value in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, data
    finally:
        conn.close()


# --- the workload ---------------------------------------------------------------------------


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked_saves: list[tuple[str, int]] = field(default_factory=list)  # (client_id, port)
    acked_signs: list[str] = field(default_factory=list)  # sequence public ids
    save_times: dict[int, list[float]] = field(default_factory=dict)
    reads: int = 0
    errors: list[str] = field(default_factory=list)
    killed_errors: int = 0

    def error(self, text: str, port: int, instances: dict[int, Instance]) -> None:
        with self.lock:
            killed = instances[port].killed_at is not None
            if killed:
                self.killed_errors += 1
            else:
                self.errors.append(text)


def login(port: int, email: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    _s, _h, page = request(port, "GET", "/connexion", cookies=cookies)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD})
    status, _h, _b = request(port, "POST", "/connexion", body=body, cookies=cookies)
    if status != 302:
        raise RuntimeError(f"login {email} answered {status}")
    return cookies


def tutor_loop(
    i: int, ports: list[int], instances: dict[int, Instance], stop: float, results: Results
) -> None:
    port = ports[i % len(ports)]
    email = f"charge-tuteur{i}@example.org"
    cookies = None
    while time.monotonic() < stop:
        if instances[port].killed_at is not None:  # fail over to a live instance
            port = next(p for p in ports if instances[p].killed_at is None)
        try:
            if cookies is None:
                cookies = login(port, email)
            status, _h, page = request(port, "GET", "/tablette/", cookies=cookies)
            link = re.search(r'href="(/tablette/protocoles/[^"/]+)"', page)
            if status != 200 or not link:
                results.error(f"tablet list {status}", port, instances)
                continue
            status, _h, page = request(port, "GET", f"{link.group(1)}/situation", cookies=cookies)
            form = next(f for f in forms_of(page) if "client_id" in dict(f["fields"]))
            data = dict(form["fields"])
            data.update(
                {
                    "duration_minutes": "90",
                    "place": "Chambre 3",
                    "intent": "Aide au repas",
                    "autonomy": "accompanied",
                }
            )
            pairs = list(data.items()) + [
                ("competence_ids", v) for v in form["options"].get("competence_ids", [])[:2]
            ]
            t0 = time.perf_counter()
            status, headers, _b = request(
                port,
                "POST",
                f"{link.group(1)}/situation",
                body=urllib.parse.urlencode(pairs),
                cookies=cookies,
            )
            elapsed = time.perf_counter() - t0
            location = headers.get("Location", "")
            if status != 302 or "/sequences/" not in location:
                results.error(f"save answered {status}", port, instances)
                continue
            with results.lock:
                results.acked_saves.append((data["client_id"], port))
                results.save_times.setdefault(port, []).append(elapsed)
            seq_path = urllib.parse.urlsplit(location).path
            status, _h, page = request(port, "GET", seq_path, cookies=cookies)
            sign_form = next(f for f in forms_of(page) if (f["action"] or "").endswith("/signer"))
            fields = dict(sign_form["fields"])
            fields["sign-secret"] = PIN
            status, _h, _b = request(
                port,
                "POST",
                sign_form["action"],
                body=urllib.parse.urlencode(fields),
                cookies=cookies,
            )
            if status == 302:
                with results.lock:
                    results.acked_signs.append(seq_path.rsplit("/", 1)[-1])
            else:
                results.error(f"sign answered {status}", port, instances)
        except (
            OSError,
            http.client.HTTPException,
            RuntimeError,
            StopIteration,
            AttributeError,
            IndexError,
        ) as exc:
            results.error(f"{type(exc).__name__}: {exc}", port, instances)
            time.sleep(0.05)


def consultant_loop(
    i: int, ports: list[int], instances: dict[int, Instance], stop: float, results: Results
) -> None:
    """A consultant reads their home and the dashboards it links to, in turn."""
    port = ports[i % len(ports)]
    cookies, pages = None, ["/"]
    n = 0
    while time.monotonic() < stop:
        if instances[port].killed_at is not None:
            port = next(p for p in ports if instances[p].killed_at is None)
        path = pages[n % len(pages)]
        n += 1
        try:
            if cookies is None:
                cookies = login(port, f"charge-consult{i}@example.org")
            status, _h, body = request(port, "GET", path, cookies=cookies)
            if path == "/":
                pages = ["/", *sorted(set(re.findall(r'href="(/tableaux/[^"?]*)"', body)))]
            if status == 200:
                with results.lock:
                    results.reads += 1
            else:
                results.error(f"read {path} answered {status}", port, instances)
        except (OSError, http.client.HTTPException, RuntimeError) as exc:
            results.error(f"{type(exc).__name__}: {exc}", port, instances)
            time.sleep(0.05)


def trivial_throughput(port: int, seconds: float, clients: int = 25) -> float:
    count = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop():
        while time.monotonic() < stop:
            try:
                status, _h, _b = request(port, "GET", "/sante")
            except OSError:
                continue
            if status == 200:
                with lock:
                    count[0] += 1

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count[0] / seconds


def saturated_throughput(
    url: str, port: int, results: Results, rounds: int = ROUNDS, window: float = WINDOW
) -> tuple[float, float, list[float]]:
    """The trivial page's and the tutor's save's throughput on this instance alone: windows
    of each in turn (trivial, save, trivial, save, ...), so that a drift of the machine's
    speed over the measurement weighs on both alike. The tutors are logged in and have their
    form loaded beforehand (not timed). After a save window, the next window waits for the
    background settling of the rollups that the saves marked (afest/dashboards/jobs.py), so that the
    saves' work does not run into the trivial page's window; the settling that follows a save
    window's last saves is thus counted in neither (measured on PostgreSQL: 0.3 to 0.4% of
    the server CPU of an 8-second save window; the settling during the window is counted).
    Returns (trivial req/s, save req/s, save times)."""
    prepared = prepare_savers(port)
    trivial, saves, times = 0.0, 0.0, []
    for _ in range(rounds):
        trivial += trivial_throughput(port, window) * window
        rate, window_times = run_savers(port, prepared, window, results)
        saves += rate * window
        times += window_times
        wait_settled(url)
    return trivial / (rounds * window), saves / (rounds * window), times


def wait_settled(url: str, timeout: float = 30) -> None:
    """Until no protocol is marked for settling (the queue's settle has committed)."""
    from sqlmodel import Session

    from afest.core.database import make_engine
    from afest.dashboards import rollups

    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with Session(engine) as session:
                if not rollups.is_pending(session):
                    return
            time.sleep(0.2)
        raise SystemExit(f"the rollups were still not settled after {timeout:.0f} s")
    finally:
        engine.dispose()


def prepare_savers(port: int) -> list[tuple]:
    """Each tutor logged in on this instance, with the situation form of their learner."""
    prepared = []
    for i in range(TUTORS):
        cookies = login(port, f"charge-tuteur{i}@example.org")
        _s, _h, page = request(port, "GET", "/tablette/", cookies=cookies)
        link = re.search(r'href="(/tablette/protocoles/[^"/]+)"', page).group(1)
        _s, _h, page = request(port, "GET", f"{link}/situation", cookies=cookies)
        form = next(f for f in forms_of(page) if "client_id" in dict(f["fields"]))
        data = dict(form["fields"])
        data.update(
            duration_minutes="60", place="Chambre 5", intent="Toilette", autonomy="accompanied"
        )
        comps = [("competence_ids", v) for v in form["options"].get("competence_ids", [])[:2]]
        prepared.append((cookies, f"{link}/situation", data, comps))
    return prepared


def run_savers(
    port: int, prepared: list[tuple], seconds: float, results: Results
) -> tuple[float, list[float]]:
    times: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop(cookies, path, data, comps):
        while time.monotonic() < stop:
            client_id = secrets.token_hex(16)
            body = urllib.parse.urlencode([*{**data, "client_id": client_id}.items(), *comps])
            t0 = time.perf_counter()
            try:
                status, headers, _b = request(port, "POST", path, body=body, cookies=cookies)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    results.errors.append(f"saturation save: {type(exc).__name__}")
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                if status == 302 and "/sequences/" in headers.get("Location", ""):
                    times.append(elapsed)
                    results.acked_saves.append((client_id, port))
                else:
                    results.errors.append(f"saturation save answered {status}")

    threads = [threading.Thread(target=loop, args=args) for args in prepared]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(times) / seconds, times


def check_rollups(url: str) -> int:
    """Settle the marked protocols, then count the rollup rows that differ from a rebuild."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from afest.core.database import make_engine
    from afest.dashboards import rollups
    from afest.models import ROLLUP_TABLES

    engine = make_engine(url)
    with Session(engine) as session:
        rollups.drain_all(session)
        conn = session.connection()
        before = {t.name: {tuple(r) for r in conn.execute(sa.select(t))} for t in ROLLUP_TABLES}
        rollups.rebuild(session)
        after = {t.name: {tuple(r) for r in conn.execute(sa.select(t))} for t in ROLLUP_TABLES}
        session.rollback()
    engine.dispose()
    return sum(len(before[n] ^ after[n]) for n in before)


def check_acknowledged(url: str, results: Results) -> tuple[int, int]:
    """How many acknowledged saves and signatures are missing from the database."""
    import sqlalchemy as sa

    from afest.core.database import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        ids = [c for c, _p in results.acked_saves]
        found = set()
        for start in range(0, len(ids), 500):
            found |= set(
                conn.execute(
                    sa.text("SELECT client_id FROM sequence WHERE client_id IN :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": ids[start : start + 500]},
                ).scalars()
            )
        signed = set()
        for start in range(0, len(results.acked_signs), 500):
            chunk = results.acked_signs[start : start + 500]
            signed |= set(
                conn.execute(
                    sa.text(
                        "SELECT s.public_id FROM sequence s JOIN signature g "
                        "ON g.subject_id = s.id AND g.subject_kind = 'sequence' "
                        "AND g.signer_role = 'tutor' "
                        "WHERE s.public_id IN :ids"
                    ).bindparams(sa.bindparam("ids", expanding=True)),
                    {"ids": chunk},
                ).scalars()
            )
    engine.dispose()
    return len(set(ids) - found), len(set(results.acked_signs) - signed)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(engine: str, seconds: float) -> None:
    url = fresh_database(engine)
    prepare(url)
    ports = [8101, 8102] if engine == "postgresql" else [8103]
    instances = {p: start_instance(url, p) for p in ports}
    try:
        results = Results()
        saturated = {p: saturated_throughput(url, p, results) for p in ports}
        stop = time.monotonic() + seconds
        threads = [
            threading.Thread(target=tutor_loop, args=(i, ports, instances, stop, results))
            for i in range(TUTORS)
        ]
        threads += [
            threading.Thread(target=consultant_loop, args=(i, ports, instances, stop, results))
            for i in range(CONSULTANTS)
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        if len(ports) > 1:
            time.sleep(seconds / 2)
            instances[ports[1]].kill()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
    finally:
        for instance in instances.values():
            instance.stop()
    lost_saves, lost_signs = check_acknowledged(url, results)
    rollup_diff = check_rollups(url)
    locked = sum(
        i.log.read_text(errors="replace").count("database is locked") for i in instances.values()
    )
    tag = (
        f"engine={engine} tutors={TUTORS} consultants={CONSULTANTS} seconds={seconds:.0f} "
        f"gunicorn={WORKERS} workers x {threads_of(url)} threads (config/gunicorn.conf.py)"
    )
    print(f"# load test: {tag}; data = demo + {TUTORS} protocols in progress")
    for port in ports:
        trivial, rate, alone = saturated[port]
        print(f"load_{engine}_{port}_trivial_throughput = {trivial:.1f} req/s")
        print(f"load_{engine}_{port}_save_throughput = {rate:.1f} req/s  (20 tutors saving)")
        print(f"load_{engine}_{port}_save_ratio_to_trivial = {100 * rate / trivial:.1f} %")
        print(f"load_{engine}_{port}_save_alone_p50 = {1000 * percentile(alone, 0.5):.1f} ms")
        print(f"load_{engine}_{port}_save_alone_p95 = {1000 * percentile(alone, 0.95):.1f} ms")
    for port in ports:
        saves = results.save_times.get(port, [])
        live = seconds / 2 if instances[port].killed_at else wall
        print(
            f"load_{engine}_{port}_mixed_saves = {len(saves) / live:.1f} req/s  "
            "(log + sign cycles, consultants reading, kill)"
        )
        print(f"load_{engine}_{port}_mixed_save_p50 = {1000 * percentile(saves, 0.5):.1f} ms")
        print(f"load_{engine}_{port}_mixed_save_p95 = {1000 * percentile(saves, 0.95):.1f} ms")
    print(f"load_{engine}_acknowledged_saves = {len(results.acked_saves)} writes")
    print(f"load_{engine}_acknowledged_signatures = {len(results.acked_signs)} writes")
    print(f"load_{engine}_reads = {results.reads} pages")
    print(f"load_{engine}_lost_acknowledged_writes = {lost_saves + lost_signs} writes")
    print(f"load_{engine}_errors = {len(results.errors)} errors")
    print(f"load_{engine}_killed_instance_errors = {results.killed_errors} errors")
    print(f"load_{engine}_database_is_locked = {locked} occurrences")
    print(f"load_{engine}_rollup_rows_differing_from_rebuild = {rollup_diff} rows")
    for text in sorted(set(results.errors))[:10]:
        print(f"#   error: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--engine", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args()
    for engine in ["postgresql", "sqlite"] if args.engine == "both" else [args.engine]:
        run(engine, min(args.seconds, 300))


if __name__ == "__main__":
    main()
