"""A structure's funding claim over a period as one sealed ZIP, built on the task queue.

The manager asks for it from the statement of expenses; a job (afest.proof.claims) puts in
every pack of the period's protocols and the structure's statement, writes the file under
the instance folder and counts its progress here, which the claim's page shows until the
download is ready.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from .base import created_at_field, public_id_field


class ClaimArchive(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    structure_id: int = Field(foreign_key="organisation.id", index=True)
    requested_by_id: int = Field(foreign_key="user.id")
    period_start: date
    period_end: date
    state: str = Field(default="queued", max_length=16)  # afest.proof.claims.STATES
    total: int = 0  # protocols to put in
    done: int = 0  # protocols put in so far
    size: int = 0  # bytes of the ZIP once ready
    sha256: str = Field(default="", max_length=64)
    problem: str = Field(default="", max_length=400)  # why it failed (for the log's reader)
    created_at: datetime = created_at_field()
    finished_at: datetime | None = None
