"""gunicorn settings for afest: `.venv/bin/gunicorn -c config/gunicorn.conf.py 'afest.wsgi:app'`.

A process per core. The work of a request is Python (one core per process at a time), so
threads only help while a request waits outside the interpreter:

- PostgreSQL: two threads a process. The second keeps the process busy while the first waits
  on the database, on a slow tablet connection or on a signature check (argon2 releases the
  interpreter while it hashes). More only add switching: on 2 cores, with bench/load.py's 20
  tutors saving back to back, 8 threads saved 35% fewer sequences a second than 2, and 1
  thread about 15% fewer.
- SQLite: one thread a process. Writes take turns (afest/core/database.py); a second thread would hold the
  interpreter while the first holds the write lock, so every save waits on both. Measured the
  same way, 1 thread saved about a third more sequences a second than 2.

Any setting can be overridden on the command line (`--bind`, `--workers`, ...) or by
AFEST_WORKERS and AFEST_THREADS.

Each worker warms WeasyPrint as it starts, before it takes its first request (under a second
of CPU and about 30 MB), so that the first proof pack it serves is as fast
as the next ones; it logs "proof pack renderer ready". Background jobs run in one consumer
process beside gunicorn (`flask --app afest afest worker`), never in a web worker.
"""

import os

from afest.core.settings import database_url


def threads_for(url: str) -> int:
    return 1 if url.startswith("sqlite") else 2


bind = os.environ.get("AFEST_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("AFEST_WORKERS", os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("AFEST_THREADS", threads_for(database_url())))
# a save or a dashboard answers in milliseconds; a proof pack PDF in about two seconds
timeout = 60
graceful_timeout = 20
keepalive = 5


def post_fork(server, worker):
    from afest.proof import proofpack, seal

    seconds = proofpack.warm_up() + seal.warm_up()
    worker.log.info("proof pack renderer ready in %.2f s (worker %s)", seconds, worker.pid)


def post_worker_init(worker):
    """Once the worker has loaded the app: what it holds for its whole life (the app, the
    modules, the renderer warmed above) leaves the garbage collector's full passes. A full
    pass over it cost about 140 ms of CPU, falling in the middle of a request every few
    dozen API pages (bench/bench_api.py: p95 of a page of 50 protocols 169 ms of CPU before,
    34 ms after, on the national dataset); new objects are collected as before."""
    import gc

    gc.freeze()
