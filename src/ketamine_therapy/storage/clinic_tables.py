"""Tables for the clinic's records: screenings, plans, sessions, REMS, coverage, settings, versions and the audit log.

Each record keeps its domain value as a JSON document (``data``, written and read by ``documents.py``) next to
the columns that are queried (patient, date, state). Rows with a ``version`` column use optimistic locking;
every change also writes the whole document to ``record_versions`` with who, when and why, so nothing is lost.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime


class ScreeningRow(Base):
    """A screening: the clinician's input and the report the rules produced."""

    __tablename__ = "screenings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    screened_on: Mapped[date] = mapped_column(Date)
    route: Mapped[str] = mapped_column(String(32))
    input: Mapped[dict[str, object]] = mapped_column(JSON)
    report: Mapped[dict[str, object]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))


class PlanRow(Base):
    """A treatment plan: a protocol laid out on real dates."""

    __tablename__ = "treatment_plans"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    protocol_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's mapper configuration


ONE_OPEN_SESSION_INDEX = "uq_treatment_sessions_one_open"
"""At most one open (checked-in, dosing or monitoring) treatment session per patient: the database's own guard
behind the domain rule, for two check-ins that race past the domain check."""
OPEN_STATES_SQL = "state IN ('checked_in', 'dosing', 'monitoring')"


class SessionRow(Base):
    """A treatment session and everything recorded on it."""

    __tablename__ = "treatment_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("treatment_plans.id"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's mapper configuration
    __table_args__ = (Index(ONE_OPEN_SESSION_INDEX, "patient_id", unique=True, sqlite_where=text(OPEN_STATES_SQL),
                            postgresql_where=text(OPEN_STATES_SQL)),)  # fmt: skip


class RemsEnrollmentRow(Base):
    """A patient's Spravato REMS enrolment (one per patient; corrections are versions)."""

    __tablename__ = "rems_enrollments"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))


class RemsFormRow(Base):
    """A Patient Monitoring Form built from one esketamine session, and when it was submitted."""

    __tablename__ = "rems_forms"
    __table_args__ = (UniqueConstraint("session_id", name="uq_rems_forms_session_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_sessions.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    treatment_date: Mapped[date] = mapped_column(Date, index=True)
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's mapper configuration


class CoverageRow(Base):
    """A patient's insurance coverage (absent = self-pay)."""

    __tablename__ = "coverages"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's mapper configuration


class ClinicSettingsRow(Base):
    """The clinic's own settings (one row, id 1): calendar, policies, limits, prices, REMS details."""

    __tablename__ = "clinic_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's mapper configuration


class RecordVersionRow(Base):
    """Every version of every clinic record, never deleted: the document, who changed it, when and why."""

    __tablename__ = "record_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, object]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))


class AuditRow(Base):
    """Append-only audit log of reads and writes of patient data (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_log"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    detail: Mapped[str] = mapped_column(Text)
