"""Backups: SQLite's online backup API, pg_dump / pg_restore for PostgreSQL.

A backup is a single file. Restoring replaces the whole database with the file's content;
stop the application first.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The backup or restore could not be made; the message says why."""


def _libpq_url(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _run(args: list[str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed (Debian package postgresql-client)")
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed: {result.stderr.strip()[:500]}")


def backup(url: str, target: Path) -> Path:
    """Write a consistent copy of the database at `url` to `target` while it keeps running."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).get_backend_name() == "sqlite":
        source_path = _sqlite_path(url)
        if not source_path.exists():
            raise BackupError(f"no database at {source_path}")
        tmp = target.with_suffix(target.suffix + ".part")
        with sqlite3.connect(source_path) as source, sqlite3.connect(tmp) as copy:
            source.backup(copy)
        tmp.replace(target)
        return target
    _run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
            _libpq_url(url),
        ]
    )
    return target


def restore(url: str, source: Path) -> None:
    """Replace the database at `url` by the content of the backup file `source`."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if make_url(url).get_backend_name() == "sqlite":
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with sqlite3.connect(source) as backup_db:
                backup_db.execute("PRAGMA schema_version").fetchone()
                with sqlite3.connect(target_path) as live:
                    backup_db.backup(live)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not an SQLite backup: {exc}") from None
        return
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            f"--dbname={_libpq_url(url)}",
            str(source),
        ]
    )
