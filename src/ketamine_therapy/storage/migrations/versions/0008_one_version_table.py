"""One table of record versions: the patients' versions move from ``patient_versions`` into ``record_versions``
(``entity = 'patient'``, ``entity_id`` the patient's id as text), which already holds every clinic record's.

Revision ID: 0008
Revises: 0007
"""

import uuid

import sqlalchemy as sa
from alembic import op

from ketamine_therapy.storage.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ("version", "snapshot", "changed_at", "changed_by", "reason")


def _patient_versions() -> sa.TableClause:
    return sa.table("patient_versions", sa.column("id", sa.Integer()), sa.column("patient_id", sa.Uuid()),
                    sa.column("version", sa.Integer()), sa.column("snapshot", sa.JSON()),
                    sa.column("changed_at", UTCDateTime()), sa.column("changed_by", sa.String()),
                    sa.column("reason", sa.String()))  # fmt: skip


def _record_versions() -> sa.TableClause:
    return sa.table("record_versions", sa.column("id", sa.Integer()), sa.column("entity", sa.String()),
                    sa.column("entity_id", sa.String()), sa.column("version", sa.Integer()),
                    sa.column("snapshot", sa.JSON()), sa.column("changed_at", UTCDateTime()),
                    sa.column("changed_by", sa.String()), sa.column("reason", sa.String()))  # fmt: skip


def upgrade() -> None:
    bind = op.get_bind()
    old, new = _patient_versions(), _record_versions()
    rows = bind.execute(sa.select(old).order_by(old.c.id)).mappings().all()  # read typed: UUIDs, JSON, UTC times
    if rows:
        bind.execute(sa.insert(new), [{"entity": "patient", "entity_id": str(r["patient_id"]),
                                       **{c: r[c] for c in COLUMNS}} for r in rows])  # fmt: skip
    op.drop_index(op.f("ix_patient_versions_patient_id"), table_name="patient_versions")
    op.drop_table("patient_versions")


def downgrade() -> None:
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
    bind = op.get_bind()
    old, new = _patient_versions(), _record_versions()
    rows = bind.execute(sa.select(new).where(new.c.entity == "patient").order_by(new.c.id)).mappings().all()
    if rows:
        bind.execute(sa.insert(old), [{"patient_id": uuid.UUID(r["entity_id"]), **{c: r[c] for c in COLUMNS}}
                                      for r in rows])  # fmt: skip
    bind.execute(sa.delete(new).where(new.c.entity == "patient"))
