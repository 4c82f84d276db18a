"""Tables of treatment records: plans, sessions, REMS enrolments and Patient Monitoring Forms (documents in
``data`` columns, versioned).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from . import Base, UTCDateTime


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


class TreatmentSessionRow(Base):
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
