"""Patient versions: corrections are new versions with who, when and why.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from ketamine_therapy.storage.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_patient_versions_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_versions")),
    )
    op.create_index(op.f("ix_patient_versions_patient_id"), "patient_versions", ["patient_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_patient_versions_patient_id"), table_name="patient_versions")
    op.drop_table("patient_versions")
