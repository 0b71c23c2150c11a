"""Uploaded files kept between an import's preview and its confirmation.

An import is shown before it is saved: the file sent is kept in the database (not on one
worker's disk) under an unguessable id, for its sender only, and read again on
confirmation, so that what is saved is exactly what was previewed. A sender keeps one file
per purpose (sending another replaces it); any file left a day is dropped.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session

from afest.models import Upload, utcnow

KEPT_FOR = timedelta(days=1)


def keep(session: Session, *, owner_id: int, purpose: str, filename: str, content: bytes) -> Upload:
    """Keep `content` for `owner_id`, replacing what they had sent for the same purpose."""
    session.execute(
        delete(Upload).where(
            (Upload.created_at < utcnow() - KEPT_FOR)
            | ((Upload.owner_id == owner_id) & (Upload.purpose == purpose))
        )
    )
    upload = Upload(
        owner_id=owner_id,
        purpose=purpose,
        filename=(filename or "fichier")[-200:],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(upload)
    session.flush()
    return upload


def still_kept():
    """SQL condition: the file is less than a day old (older ones are dropped, and not read
    meanwhile)."""
    return Upload.created_at >= utcnow() - KEPT_FOR


def discard(session: Session, upload: Upload) -> None:
    session.execute(delete(Upload).where(Upload.id == upload.id))
