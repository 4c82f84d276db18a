"""At most one open treatment session per patient (a partial unique index): two check-ins that race past the
domain's check cannot both commit.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_INDEX = "uq_treatment_sessions_one_open"
_OPEN = sa.text("state IN ('checked_in', 'dosing', 'monitoring')")


def upgrade() -> None:
    op.create_index(_INDEX, "treatment_sessions", ["patient_id"], unique=True, sqlite_where=_OPEN,
                    postgresql_where=_OPEN)  # fmt: skip


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="treatment_sessions")
