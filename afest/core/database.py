"""Engine, request-scoped session and the single commit point of a request.

SQLite is the embedded default: foreign keys on, WAL, a busy timeout, and write requests open
their transaction with BEGIN IMMEDIATE so that two writers queue instead of failing with
"database is locked" halfway. Writers queue before BEGIN IMMEDIATE (WriterQueue: a lock
between threads, an flock between processes): SQLite itself makes a waiting writer sleep and
retry (up to 100 ms a time), which under a burst of saves costs more than the writes.
PostgreSQL is used as it is.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlmodel import Session

try:
    import fcntl
except ImportError:  # not a POSIX system: the processes fall back on SQLite's busy timeout
    fcntl = None

EXTENSION_KEY = "afest.core.database"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets its pragmas and explicit transaction control."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        if parsed.get_backend_name() == "postgresql":
            # afest runs short queries only. No JIT compilation: the planner's cost of a
            # rollup refresh or a dashboard read passes jit_above_cost, and compiling then
            # took longer (about 70 ms) than the query itself. No parallel workers: starting
            # them cost a dashboard's learner counts more (21 ms) than they saved (14 ms
            # without), and they take cores from the other requests.
            options = "-c jit=off -c max_parallel_workers_per_gather=0"
            connect_args = kwargs.setdefault("connect_args", {})
            connect_args["options"] = f"{connect_args.get('options', '')} {options}".strip()
        return create_engine(url, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when a transaction begins (SAVEPOINTs and
        # BEGIN IMMEDIATE need it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    writers = WriterQueue(parsed.database if parsed.database != ":memory:" else None)

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        if conn.get_execution_options().get("afest_write"):
            writers.acquire()
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                writers.release()
                raise
            # counted: a connection may begin again before it goes back to the pool
            conn.info["afest_writer"] = conn.info.get("afest_writer", 0) + 1
        else:
            conn.exec_driver_sql("BEGIN DEFERRED")

    def _release(record) -> None:
        for _ in range(record.info.pop("afest_writer", 0)):
            writers.release()

    # Released when the connection goes back to the pool, that is after its COMMIT or
    # ROLLBACK has run (the engine's "commit" event fires before it).
    event.listen(engine, "checkin", lambda _dbapi, record: _release(record))
    event.listen(engine, "invalidate", lambda _dbapi, record, _exc: _release(record))
    return engine


class WriterQueue:
    """One SQLite writer at a time, woken as soon as the previous one is done: the threads of
    a process queue on a lock, the processes (gunicorn workers) on an flock of a file beside
    the database, which the system releases if its holder dies. Reentrant in one thread."""

    def __init__(self, database_path: str | None):
        self._threads = threading.RLock()
        self._path = f"{database_path}.writer" if database_path and fcntl else None
        self._fd: int | None = None
        self._pid = 0
        self._depth = 0
        # A forked child starts with no lock held, whatever its parent held at the fork.
        this = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (queue := this()) and queue._forked())

    def _forked(self) -> None:
        self._threads = threading.RLock()
        self._depth = 0
        self._fd = None

    def acquire(self) -> None:
        self._threads.acquire()
        self._depth += 1
        if self._depth == 1 and self._path:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
            except BaseException:
                self._depth -= 1
                self._threads.release()
                raise

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._path and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _file(self) -> int:
        # A descriptor of this process's own: one inherited through fork would share the
        # lock with the parent instead of excluding it.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


class Database:
    """What the app holds: the engine, or in tests a connection to bind sessions to."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.bind: Any = engine  # tests replace this with a connection inside a transaction
        # made once: every write request opens a session on it, and making it costs more
        # than making the session
        self._writer = engine.execution_options(afest_write=True)

    def session(self, *, write: bool = False) -> Session:
        bind = self.bind
        if write and isinstance(bind, Engine):
            bind = self._writer if bind is self.engine else bind.execution_options(afest_write=True)
        return Session(bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[EXTENSION_KEY] = Database(engine)

    @app.after_request
    def _commit(response):
        session = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _close(_exc):
        # Reached with a session still open only when the view raised: nothing is kept.
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[EXTENSION_KEY]


class RequestSession(Session):
    """The session of a request: it reads, and writes only inside `writing()`. A write
    outside it would run in the reads' transaction (on SQLite, without the writer's turn), so
    it is refused, whatever the engine."""


WRITING = "afest.writing"  # in session.info while writing() runs


def _refuse_outside_writing(session: Session) -> None:
    if not session.info.get(WRITING):
        raise RuntimeError("a request writes only inside afest.core.database.writing()")


@event.listens_for(RequestSession, "before_flush")
def _flush_writes(session, _context, _instances):
    if session.new or session.dirty or session.deleted:
        _refuse_outside_writing(session)


@event.listens_for(RequestSession, "do_orm_execute")
def _statement_writes(state):
    if state.is_insert or state.is_update or state.is_delete:
        _refuse_outside_writing(state.session)


def get_session() -> Session:
    """The session of the current request, opened on first use: reads only (see writing)."""
    if "db_session" not in g:
        g.db_session = RequestSession(
            bind=database().bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
    return g.db_session


@contextmanager
def writing() -> Iterator[Session]:
    """The request's write scope, around one operation: the reads' transaction ends, a write
    transaction begins (on SQLite BEGIN IMMEDIATE, the writer's turn, held only inside), and
    it commits when the block ends, or rolls back on any error, leaving nothing half-saved.

        protocol = load_protocol_or_404(public_id, require=policy.can_log_sequence)
        with writing() as session:
            sequences.log_sequence(session, actor_id=current_user.id, protocol=protocol, ...)
    """
    session = get_session()
    if session.in_transaction():
        session.commit()  # only reads: nothing to keep, and the loaded objects stay loaded
    session.connection(execution_options={"afest_write": True})
    session.info[WRITING] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(WRITING, None)


def insert_on_conflict(where: Session | Connection | str, table):
    """The engine's own INSERT for `table` (a table or a model), which knows ON CONFLICT DO
    NOTHING / DO UPDATE: PostgreSQL and SQLite spell it alike, but SQLAlchemy has one
    construct per dialect. `where`: the session or connection it will run on, or the name of
    its dialect."""
    if isinstance(where, str):
        name = where
    else:
        name = (where.dialect if isinstance(where, Connection) else where.get_bind().dialect).name
    if name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
