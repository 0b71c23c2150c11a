"""Engine, request-scoped session and the single commit point of a request.

SQLite is the embedded default: foreign keys on, WAL, a busy timeout, and write requests open
their transaction with BEGIN IMMEDIATE so that two writers queue instead of failing with
"database is locked" halfway. Writers of one process queue on a lock of the engine before
BEGIN IMMEDIATE: SQLite itself makes a waiting writer sleep and retry (up to 100 ms a time),
which under a burst of saves costs more than the writes. PostgreSQL is used as it is.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXTENSION_KEY = "afest.db"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets its pragmas and explicit transaction control."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
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

    writers = threading.RLock()  # reentrant: a thread never waits for its own transaction

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        if conn.get_execution_options().get("afest_write"):
            writers.acquire()
            conn.info["afest_writer"] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release(conn)
                raise
        else:
            conn.exec_driver_sql("BEGIN DEFERRED")

    def _release(conn_or_record, *_args):
        if conn_or_record.info.pop("afest_writer", False):
            writers.release()

    # Released when the connection goes back to the pool, that is after its COMMIT or
    # ROLLBACK has run (the engine's "commit" event fires before it).
    event.listen(engine, "checkin", lambda _dbapi, record: _release(record))
    event.listen(engine, "invalidate", lambda _dbapi, record, _exc: _release(record))
    return engine


class Database:
    """What the app holds: the engine, or in tests a connection to bind sessions to."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.bind: Any = engine  # tests replace this with a connection inside a transaction

    def session(self, *, write: bool = False) -> Session:
        bind = self.bind
        if write and isinstance(bind, Engine):
            bind = bind.execution_options(afest_write=True)
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


def get_session() -> Session:
    """The session of the current request, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().session(write=request.method in WRITE_METHODS)
    return g.db_session
