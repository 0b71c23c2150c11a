"""Access tokens of the read-only API, each held by an organisation's information system."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .base import created_at_field, public_id_field


class ApiToken(SQLModel, table=True):
    """A bearer token of an organisation (an OPCO, a structure): its system reads through the
    API what the organisation's people may read on screen (afest.api.tokens.TokenActor).

    The secret is shown once, when the token is created; only its SHA-256 is stored. A
    revoked token answers 401 from then on.
    """

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)
    token_hash: str = Field(max_length=64, unique=True)
    # the first characters of the secret, to tell tokens apart in the list
    prefix: str = Field(max_length=12)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
