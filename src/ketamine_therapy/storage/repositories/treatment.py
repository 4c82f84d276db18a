"""SQLAlchemy repositories of treatment records (services.ports.treatment), documents in ``data`` columns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from ...clinic.protocols.calendar import TreatmentPlan
from ...clinic.rems import PatientMonitoringForm, RemsEnrollment
from ...clinic.sessions import Session as TreatmentSession
from ...services.ports.treatment import PlanRecord, RecordVersion, RemsFormRecord, SessionRecord
from ..documents import dump, load
from ..tables.treatment import PlanRow, RemsEnrollmentRow, RemsFormRow, TreatmentSessionRow
from .versions import VersionedRepository, get_row, put_patient_document


class SqlPlanRepository(VersionedRepository):
    """Treatment plans, versioned."""

    entity = "plan"

    def add(self, record: PlanRecord, by: str, reason: str) -> None:
        data = dump(record.plan)
        row = PlanRow(id=record.id, patient_id=record.patient_id, protocol_id=record.plan.protocol.id,
                      start=record.plan.start, status=record.status, data=data, updated_at=datetime.now(UTC),
                      updated_by=by)  # fmt: skip
        self._add(row, f"plan {record.id}", {"status": record.status, "plan": data}, by, reason)

    def _row(self, plan_id: uuid.UUID) -> PlanRow:
        return get_row(self.db, PlanRow, plan_id, f"plan {plan_id}")

    @staticmethod
    def _record(row: PlanRow) -> PlanRecord:
        return PlanRecord(row.id, row.patient_id, load(TreatmentPlan, row.data), row.status, row.version)

    def get(self, plan_id: uuid.UUID) -> PlanRecord:
        return self._record(self._row(plan_id))

    def update(self, record: PlanRecord, expected_version: int, by: str, reason: str) -> int:
        data = dump(record.plan)
        return self._update(self._row(record.id), f"plan {record.id}", expected_version,
                            {"data": data, "status": record.status}, {"status": record.status, "plan": data}, by,
                            reason)  # fmt: skip

    def for_patient(self, patient_id: uuid.UUID) -> Sequence[PlanRecord]:
        rows = self.db.scalars(select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.start))
        return [self._record(r) for r in rows]


class SqlTreatmentSessionRepository(VersionedRepository):
    """Treatment sessions, versioned; ``state`` and ``scheduled_at`` are columns for the day's list."""

    entity = "session"

    def add(self, record: SessionRecord, by: str, reason: str) -> None:
        s = record.session
        data = dump(s)
        row = TreatmentSessionRow(id=record.id, patient_id=record.patient_id, plan_id=record.plan_id,
                                  number=record.number, kind=s.kind.value, scheduled_at=s.scheduled_at,
                                  state=s.state.value, data=data, updated_at=datetime.now(UTC),
                                  updated_by=by)  # fmt: skip
        self._add(row, f"session {record.id}", data, by, reason)

    def _row(self, session_id: uuid.UUID) -> TreatmentSessionRow:
        return get_row(self.db, TreatmentSessionRow, session_id, f"session {session_id}")

    @staticmethod
    def _record(row: TreatmentSessionRow) -> SessionRecord:
        return SessionRecord(row.id, row.patient_id, load(TreatmentSession, row.data), row.plan_id, row.number,
                             row.version)  # fmt: skip

    def get(self, session_id: uuid.UUID) -> SessionRecord:
        return self._record(self._row(session_id))

    def update(self, record: SessionRecord, expected_version: int, by: str, reason: str) -> int:
        s = record.session
        data = dump(s)
        return self._update(self._row(record.id), f"session {record.id}", expected_version,
                            {"data": data, "state": s.state.value, "scheduled_at": s.scheduled_at}, data, by,
                            reason)  # fmt: skip

    def for_patient(self, patient_id: uuid.UUID) -> Sequence[SessionRecord]:
        rows = self.db.scalars(
            select(TreatmentSessionRow)
            .where(TreatmentSessionRow.patient_id == patient_id)
            .order_by(TreatmentSessionRow.scheduled_at)
        )
        return [self._record(r) for r in rows]

    def scheduled_between(self, start: datetime, end: datetime) -> Sequence[SessionRecord]:
        rows = self.db.scalars(
            select(TreatmentSessionRow)
            .where(TreatmentSessionRow.scheduled_at >= start, TreatmentSessionRow.scheduled_at < end)
            .order_by(TreatmentSessionRow.scheduled_at)
        )
        return [self._record(r) for r in rows]

    def history(self, session_id: uuid.UUID) -> Sequence[RecordVersion]:
        self._row(session_id)
        return self.history_of(session_id)


class SqlRemsRepository(VersionedRepository):
    """REMS enrolments and Patient Monitoring Forms."""

    entity = "rems_form"

    def enrollment(self, patient_id: uuid.UUID) -> RemsEnrollment | None:
        row = self.db.get(RemsEnrollmentRow, patient_id)
        return None if row is None else load(RemsEnrollment, row.data)

    def put_enrollment(self, patient_id: uuid.UUID, enrollment: RemsEnrollment, by: str) -> None:
        put_patient_document(self.db, RemsEnrollmentRow, "rems_enrollment", patient_id, dump(enrollment), by)

    def add_form(self, record: RemsFormRecord, by: str) -> None:
        data = dump(record.form)
        row = RemsFormRow(id=record.id, session_id=record.session_id, patient_id=record.patient_id,
                          treatment_date=record.form.treatment_date, data=data, submitted_on=record.submitted_on,
                          updated_at=datetime.now(UTC), updated_by=by)  # fmt: skip
        self._add(row, f"REMS form {record.id}", {"form": data, "submitted_on": None}, by, "built at discharge")

    def _row(self, form_id: uuid.UUID) -> RemsFormRow:
        return get_row(self.db, RemsFormRow, form_id, f"REMS form {form_id}")

    @staticmethod
    def _record(row: RemsFormRow) -> RemsFormRecord:
        form = load(PatientMonitoringForm, row.data)
        return RemsFormRecord(row.id, row.session_id, row.patient_id, form, row.submitted_on, row.version)

    def get_form(self, form_id: uuid.UUID) -> RemsFormRecord:
        return self._record(self._row(form_id))

    def update_form(self, record: RemsFormRecord, expected_version: int, by: str, reason: str) -> int:
        data = dump(record.form)
        submitted = None if record.submitted_on is None else record.submitted_on.isoformat()
        return self._update(self._row(record.id), f"REMS form {record.id}", expected_version,
                            {"data": data, "submitted_on": record.submitted_on},
                            {"form": data, "submitted_on": submitted}, by, reason)  # fmt: skip

    def forms(self, patient_id: uuid.UUID | None = None) -> Sequence[RemsFormRecord]:
        query = select(RemsFormRow).order_by(RemsFormRow.treatment_date)
        if patient_id is not None:
            query = query.where(RemsFormRow.patient_id == patient_id)
        return [self._record(r) for r in self.db.scalars(query)]
