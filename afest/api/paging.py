"""Cursor pagination of the API's lists: keyset on (created_at, public_id), whose order is
total and does not move when rows are added (a new row comes after the last page's).

The cursor is opaque to clients: the last row's key, as URL-safe base64 of a small JSON.
A cursor that does not decode answers 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

LIMIT_DEFAULT = 50
LIMIT_MAX = 200


class BadCursor(ValueError):
    """The cursor was not one of ours."""


@dataclass(frozen=True)
class Key:
    created_at: datetime
    public_id: str


def encode(key: Key) -> str:
    moment = key.created_at
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    raw = json.dumps([moment.isoformat(), key.public_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> Key:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, public_id = json.loads(raw)
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None or not isinstance(public_id, str) or len(public_id) > 22:
            raise BadCursor(cursor)
        at = parsed.astimezone(UTC)
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise BadCursor(cursor) from exc
    return Key(at, public_id)


def after(statement, model, cursor: str | None, limit: int):
    """`statement` ordered by the key, from after `cursor`, one row more than `limit` (to
    know whether a next page exists)."""
    if cursor:
        key = decode(cursor)
        statement = statement.where(
            sa.tuple_(model.created_at, model.public_id)
            > sa.tuple_(
                sa.literal(key.created_at, model.created_at.type),
                sa.literal(key.public_id, model.public_id.type),
            )
        )
    return statement.order_by(model.created_at, model.public_id).limit(limit + 1)


def split(rows: list[Any], limit: int, key_of) -> tuple[list[Any], str | None]:
    """The page's rows and the cursor of the next page (None on the last)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(key_of(rows[-1]))
