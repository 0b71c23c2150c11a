"""SQLite writers of one process queue on the engine's lock, released after COMMIT or
ROLLBACK whatever happens in the transaction."""

from __future__ import annotations

import contextlib
import threading

import pytest
import sqlalchemy as sa

from afest.core.database import Database, make_engine


@pytest.fixture()
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER NOT NULL)")
    yield Database(engine)
    engine.dispose()


def test_concurrent_writers_all_land_and_rollbacks_release_the_lock(db):
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(25):
                with db.session(write=True) as s:
                    s.execute(sa.text("INSERT INTO t (n) VALUES (:n)"), {"n": i * 100 + j})
                    if j % 5 == 4:
                        s.rollback()  # one in five thrown away
                        continue
                    if j % 7 == 6:
                        raise_inside(s)
                        continue
                    s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    kept = [j for j in range(25) if j % 5 != 4 and j % 7 != 6]
    with db.session() as s:
        assert s.execute(sa.text("SELECT COUNT(*) FROM t")).scalar() == 8 * len(kept)
    # nothing left holding the lock: a writer on another thread starts at once
    done = threading.Event()

    def last():
        with db.session(write=True) as s:
            s.execute(sa.text("INSERT INTO t (n) VALUES (-1)"))
            s.commit()
        done.set()

    threading.Thread(target=last).start()
    assert done.wait(5)


def raise_inside(session) -> None:
    """A view that fails halfway: the session is closed without commit."""
    with contextlib.suppress(sa.exc.IntegrityError):
        session.execute(sa.text("INSERT INTO t (n) VALUES (NULL)"))  # NOT NULL: fails


def test_a_reader_never_takes_the_writers_lock(db):
    with db.session(write=True) as writer:
        writer.execute(sa.text("INSERT INTO t (n) VALUES (1)"))
        seen = []

        def read():
            with db.session() as reader:
                seen.append(reader.execute(sa.text("SELECT COUNT(*) FROM t")).scalar())

        thread = threading.Thread(target=read)
        thread.start()
        thread.join(5)
        assert seen == [0]  # read at once, without the uncommitted row
        writer.commit()


def test_processes_queue_on_the_writer_file_lock(tmp_path):
    """gunicorn workers are processes: the second waits for the first, woken at once."""
    import multiprocessing

    from afest.core.database import WriterQueue

    queue = WriterQueue(str(tmp_path / "x.sqlite"))
    queue.acquire()
    context = multiprocessing.get_context("fork")
    got = context.Event()

    def child():
        queue.acquire()
        got.set()
        queue.release()

    process = context.Process(target=child)
    process.start()
    try:
        assert not got.wait(0.5)  # held by this process: the child waits
        queue.release()
        assert got.wait(5)  # and gets it as soon as it is released
    finally:
        process.join(5)
    assert process.exitcode == 0


def test_a_connection_writing_twice_before_going_back_to_the_pool_releases_both(db):
    writer = db.engine.execution_options(afest_write=True)
    with writer.connect() as conn:
        for n in (1, 2):
            conn.begin()
            conn.execute(sa.text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
            conn.commit()
    done = threading.Event()

    def other():
        with db.session(write=True) as s:
            s.execute(sa.text("INSERT INTO t (n) VALUES (3)"))
            s.commit()
        done.set()

    threading.Thread(target=other, daemon=True).start()
    assert done.wait(5)
