"""gunicorn settings for afest: `.venv/bin/gunicorn -c config/gunicorn.conf.py 'afest.wsgi:app'`.

A process per core, two threads each. The work of a request is Python (one core per process
at a time), so more threads only add switching: on 2 cores, with bench/load.py's 20 tutors
saving back to back, 8 threads a process saved 35% fewer sequences a second than 2 on
PostgreSQL, 6% fewer on SQLite. The second thread keeps a process busy while the first waits
on the database, on a slow tablet connection or on a signature check (argon2 releases the
interpreter while it hashes).

Any setting can be overridden on the command line (`--bind`, `--workers`, ...).
"""

import os

bind = os.environ.get("AFEST_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("AFEST_WORKERS", os.cpu_count() or 2))
worker_class = "gthread"
threads = int(os.environ.get("AFEST_THREADS", 2))
# a save or a dashboard answers in milliseconds; a proof pack PDF in about two seconds
timeout = 60
graceful_timeout = 20
keepalive = 5
