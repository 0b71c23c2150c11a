"""Files kept between an import's preview and its confirmation."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import created_at_field, public_id_field


class Upload(SQLModel, table=True):
    """A file someone sent to import, kept as sent until they confirm it (or a day passes):
    the preview and the confirmation read the very same bytes, on whichever worker."""

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = public_id_field()
    owner_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    purpose: str = Field(max_length=40)  # what it imports: "structures", "people"
    filename: str = Field(max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = created_at_field()
