"""Clinic records: screenings, plans, sessions, REMS enrolments and forms, coverage, settings, record versions
and the append-only audit log.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from ketamine_therapy.storage.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _who() -> list[sa.Column[object]]:
    return [
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    ]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "screenings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        _fk("screenings", "patient_id", "patients"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenings")),
    )
    op.create_table(
        "treatment_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("protocol_id", sa.String(64), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        *_who(),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("treatment_plans", "patient_id", "patients"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_plans")),
    )
    op.create_table(
        "treatment_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        *_who(),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("treatment_sessions", "patient_id", "patients"),
        _fk("treatment_sessions", "plan_id", "treatment_plans"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_sessions")),
    )
    op.create_table(
        "rems_enrollments",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        *_who(),
        _fk("rems_enrollments", "patient_id", "patients"),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_rems_enrollments")),
    )
    op.create_table(
        "rems_forms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("treatment_date", sa.Date(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        *_who(),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("rems_forms", "session_id", "treatment_sessions"),
        _fk("rems_forms", "patient_id", "patients"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rems_forms")),
        sa.UniqueConstraint("session_id", name="uq_rems_forms_session_id"),
    )
    op.create_table(
        "coverages",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        *_who(),
        _fk("coverages", "patient_id", "patients"),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_coverages")),
    )
    op.create_table(
        "clinic_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        *_who(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_settings")),
    )
    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_versions")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    for table, column in (
        ("screenings", "patient_id"),
        ("treatment_plans", "patient_id"),
        ("treatment_sessions", "patient_id"),
        ("treatment_sessions", "plan_id"),
        ("treatment_sessions", "scheduled_at"),
        ("rems_forms", "patient_id"),
        ("rems_forms", "treatment_date"),
        ("record_versions", "entity_id"),
        ("audit_log", "at"),
        ("audit_log", "patient_id"),
    ):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])
    _append_only("audit_log")


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` in the database itself, not only in the repository."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_change()")  # fmt: skip
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")  # fmt: skip


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION refuse_change()")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
    for table in ("audit_log", "record_versions", "clinic_settings", "coverages", "rems_forms", "rems_enrollments",
                  "treatment_sessions", "treatment_plans", "screenings"):  # fmt: skip
        op.drop_table(table)
