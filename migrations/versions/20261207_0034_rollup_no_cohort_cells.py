"""rollups: no cells of the cohort family for protocols and pathways in no cohort (no view
reads them; the upkeep and the rebuild no longer write them)

Revision ID: 0034
Revises: 0032
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the cohort family's grains: a base grain and "c" (afest/dashboards/rollups.py)
COHORT_GRAINS = ("sc", "smc", "dc", "mc", "nc", "sbc", "smbc", "dbc", "mbc")


def upgrade() -> None:
    grains = ", ".join(f"'{g}'" for g in COHORT_GRAINS)
    for table in ("rollupcell", "rollupvaecell"):
        op.execute(f"DELETE FROM {table} WHERE cohort_id = 0 AND grain IN ({grains})")


def downgrade() -> None:
    """The cells removed are not made again here: `flask afest rebuild-rollups` would not make
    them either, and no view reads them."""
