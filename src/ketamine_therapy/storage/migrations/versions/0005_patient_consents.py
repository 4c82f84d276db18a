"""Patients' consent records (signed documents with dates and who filed them).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("consents", sa.JSON(), nullable=True))
    op.execute("UPDATE patients SET consents = '[]'")
    with op.batch_alter_table("patients") as batch:
        batch.alter_column("consents", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("consents")
