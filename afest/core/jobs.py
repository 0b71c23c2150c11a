"""Background work as named jobs on a task queue (huey).

The queue lives in an SQLite file (beside an SQLite database, else instance/afest-jobs.sqlite)
by default, and in Redis when REDIS_URL is set (production). One consumer process runs the
jobs and the periodic ones (`flask --app afest afest worker`; `make run` starts it beside the
app); web workers only enqueue. A job runs inside an app context: the caller's when it runs in
place (immediate mode, the test suite), else the consumer's own app, made once.

Each domain declares its jobs in its own `jobs.py` with `@job`; afest/worker.py imports them
all for the consumer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from flask import Flask, has_app_context
from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy.engine import make_url

from afest.core.settings import load_settings


def queue_file(database_url: str) -> Path:
    """Where the embedded queue keeps its jobs: beside an SQLite database (each database its
    own queue), else instance/afest-jobs.sqlite."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(f"{url.database}-jobs")
    return Path.cwd() / "instance" / "afest-jobs.sqlite"


def _make_queue() -> Huey:
    settings = load_settings()
    if settings["REDIS_URL"]:
        return RedisHuey("afest", url=settings["REDIS_URL"])
    path = queue_file(settings["DATABASE_URL"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("afest", filename=str(path))


huey = _make_queue()
_consumer_app: Flask | None = None


def _app_context():
    global _consumer_app
    if has_app_context():
        return nullcontext()
    if _consumer_app is None:
        from afest import create_app

        _consumer_app = create_app()
    return _consumer_app.app_context()


def job(*, periodic: Any = None, retries: int = 0, retry_delay: int = 0) -> Callable:
    """Declare a named job (its function's name); `periodic`: a huey crontab, and the job
    runs on that schedule in the consumer instead of being enqueued."""

    def declare(function: Callable) -> Any:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with _app_context():
                return function(*args, **kwargs)

        if periodic is not None:
            return huey.periodic_task(periodic, name=function.__name__)(run)
        return huey.task(name=function.__name__, retries=retries, retry_delay=retry_delay)(run)

    return declare
