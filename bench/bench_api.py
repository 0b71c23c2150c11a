"""Benchmark of the read-only API: a national OPCO's protocols listed page by page over HTTP.

The app runs under gunicorn (one worker, config/gunicorn.conf.py's threads for the engine) on
127.0.0.1; a keep-alive HTTP client walks `GET /api/v1/protocols?limit=N` through every page
(each `next` cursor), with a token of the OPCO that funds the most protocols, and times each
page (wall time on the client: routing, token check, keyset query, the four conditions and
hours of the page's protocols, JSON). Two passes: the first (cold caches) and the second;
the target is p95 ≤ 50 ms a page.

Usage:
    .venv/bin/python bench/generate.py --url sqlite:///bench/out/national.sqlite
    .venv/bin/python bench/bench_api.py                 # the national SQLite dataset
    .venv/bin/python bench/bench_api.py --engine postgresql
    .venv/bin/python bench/bench_api.py --url sqlite:///bench/out/tenth.sqlite --size tenth

The dataset is not changed, but for one API token added to it (and revoked at the end).
Exits non-zero, saying so, when the dataset is absent. Prints `name = value unit` lines.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.common import dataset_exists, national_url  # noqa: E402

TARGET_MS = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _token(url: str) -> tuple[str, str, int]:
    """A new token of the OPCO funding the most protocols: (secret, its name, its protocols)."""
    from sqlmodel import Session, func, select

    from afest.api import tokens
    from afest.core.database import make_engine
    from afest.models import Organisation, Protocol, Role, RoleAssignment

    engine = make_engine(url)
    with Session(engine) as session:
        funder_id, count = session.exec(
            select(Protocol.funder_id, func.count())
            .where(Protocol.funder_id.is_not(None))
            .group_by(Protocol.funder_id)
            .order_by(func.count().desc())
        ).first()
        opco = session.get(Organisation, funder_id)
        adviser = session.exec(
            select(RoleAssignment.user_id).where(
                RoleAssignment.role == Role.OPCO, RoleAssignment.organisation_id == opco.id
            )
        ).first()
        _row, secret = tokens.create_token(
            session, actor_id=adviser, organisation=opco, name="bench_api"
        )
        name = opco.name
        session.commit()
    engine.dispose()
    return secret, name, count


def _revoke(url: str, secret: str) -> None:
    from sqlmodel import Session

    from afest.api import tokens
    from afest.core.database import make_engine
    from afest.models import ApiToken

    engine = make_engine(url)
    with Session(engine) as session:
        token = session.exec(
            sa.select(ApiToken).where(ApiToken.token_hash == tokens.hash_secret(secret))
        ).scalar_one()
        tokens.revoke_token(session, actor_id=token.created_by_id, token=token)
        session.commit()
    engine.dispose()


def _serve(url: str, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "AFEST_DATABASE_URL": url,
        "AFEST_API_RATE_LIMIT": "1000000 per minute",
        "AFEST_WORKERS": "1",
    }
    command = [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "afest.wsgi:app"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(600):
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        if process.poll() is not None:
            raise SystemExit(f"gunicorn did not start; see {log}")
        time.sleep(0.1)
    raise SystemExit(f"gunicorn did not listen on {port}; see {log}")


def _walk(port: int, secret: str, limit: int) -> tuple[list[float], int]:
    """Every page of the protocols: each page's time (ms) and the protocols listed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {secret}"}
    path, times, seen = f"/api/v1/protocols?limit={limit}", [], set()
    while path:
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        times.append((time.perf_counter() - t0) * 1000)
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:300]!r}")
        page = json.loads(body)
        seen.update(p["id"] for p in page["items"])
        following = page["next"]
        path = (
            None
            if following is None
            else urlsplit(following)._replace(scheme="", netloc="").geturl()
        )
    conn.close()
    return times, len(seen)


def _warm(port: int) -> None:
    """One request that reads no protocol, so that the worker's first-request setup (the
    OpenAPI document, imports on first use) is not counted as a page."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/v1/openapi.json")
    conn.getresponse().read()
    conn.close()


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="another dataset (default: the national one)")
    parser.add_argument("--size", default="national", help="the dataset's name in the output")
    parser.add_argument("--limit", type=int, action="append", help="page sizes (default 50 200)")
    args = parser.parse_args()
    url = args.url or national_url(args.engine)
    engine = sa.engine.make_url(url).get_backend_name()
    if not dataset_exists(url):
        print(f"no dataset at {url}: run bench/generate.py first (see this file's docstring)")
        return 1
    secret, opco, protocols = _token(url)
    print(f"# {opco}: {protocols} protocols")
    port, log = _free_port(), ROOT / "bench" / "out" / "bench_api-gunicorn.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server = _serve(url, port, log)
    name = f"api_protocols_{engine}_{args.size}"
    try:
        _warm(port)
        print(f"{name}_opco_protocols = {protocols} protocols")
        for limit in args.limit or [50, 200]:
            for label in ("cold", "warm"):
                times, listed = _walk(port, secret, limit)
                if listed != protocols:
                    raise SystemExit(f"listed {listed} protocols of {protocols}")
                print(f"{name}_limit{limit}_{label}_pages = {len(times)} pages")
                print(f"{name}_limit{limit}_{label}_p50 = {statistics.median(times):.1f} ms")
                print(f"{name}_limit{limit}_{label}_p95 = {_p95(times):.1f} ms")
                print(f"{name}_limit{limit}_{label}_max = {max(times):.1f} ms")
                print(f"{name}_limit{limit}_{label}_total = {sum(times) / 1000:.2f} s")
        print(f"{name}_target_p95 = {TARGET_MS} ms")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        _revoke(url, secret)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
