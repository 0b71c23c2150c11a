"""merge dashboard rollups and retention

Revision ID: 0007
Revises: 0002, 0006
Create Date: 2026-11-23 13:44:08.391991
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: str | None = ('0002', '0006')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
