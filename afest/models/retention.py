"""The purge window: while a row exists here, inside the purge's own transaction, the
append-only tables accept DELETE (never UPDATE). Nothing but the purge writes this table.

A row alone opens nothing: the triggers let a DELETE through only while the connection
presents the row's token, which the purge draws at random for each run:
- PostgreSQL: as the transaction's setting `afest.purge_token` (SET LOCAL), and only the
  owner of the tables (the app's database user) may insert a row: a role that was merely
  granted writes on the tables cannot open a window;
- SQLite: through the SQL function afest_purge_token(), defined on each of the app's
  connections (below) and answering the token only while the purge runs on it. SQLite has no
  roles: any process that can write the file can drop the triggers; the checkpoints outside
  the database (afest.proof.checkpoints) are what tell it then.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel

from .base import created_at_field

TOKEN_FUNCTION = "afest_purge_token"  # noqa: S105 (a function's name, no secret)
_STATE = "afest.purge_token"  # in the pool's record of each SQLite connection


class PurgeWindow(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    opened_at: datetime = created_at_field()
    reason: str = Field(default="retention purge", max_length=200)
    token: str = Field(max_length=64)


@event.listens_for(Engine, "connect")
def _define_token_function(dbapi_connection: Any, record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    state = record.info.setdefault(_STATE, {"token": None})
    dbapi_connection.create_function(TOKEN_FUNCTION, 0, lambda: state["token"])


def present_token(connection: sa.Connection, token: str | None) -> None:
    """Present `token` (None: nothing) on `connection` for the purge window's triggers."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.select(sa.func.set_config("afest.purge_token", token or "", sa.true()))
        )
        return
    state = connection.connection.info.get(_STATE)
    if state is None:  # a connection opened before this module was imported
        raise RuntimeError("this SQLite connection cannot open a purge window")
    state["token"] = token
