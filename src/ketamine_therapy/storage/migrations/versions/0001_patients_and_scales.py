"""Patients, weights and recorded rating scales.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from ketamine_therapy.storage.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(16), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_table(
        "weights",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_weights_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weights")),
    )
    op.create_index(op.f("ix_weights_patient_id"), "weights", ["patient_id"])
    op.create_table(
        "scale_results",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("scale_id", sa.String(32), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("band", sa.String(64), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_scale_results_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scale_results")),
    )
    op.create_index(op.f("ix_scale_results_patient_id"), "scale_results", ["patient_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_scale_results_patient_id"), table_name="scale_results")
    op.drop_table("scale_results")
    op.drop_index(op.f("ix_weights_patient_id"), table_name="weights")
    op.drop_table("weights")
    op.drop_table("patients")
