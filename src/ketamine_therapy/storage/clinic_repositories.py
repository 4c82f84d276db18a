"""SQLAlchemy repositories for the clinic's records (services.record_ports), documents in ``data`` columns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clinic.costs import Coverage
from ..clinic.protocols.calendar import TreatmentPlan
from ..clinic.rems import PatientMonitoringForm, RemsEnrollment
from ..clinic.screening import ScreeningInput, ScreeningReport
from ..clinic.sessions import Session as TreatmentSession
from ..clinic.settings import ClinicSettings
from ..services.authorization import AuditEntry
from ..services.ports import ConflictError, NotFoundError, StaleVersionError
from ..services.record_ports import PlanRecord, RecordVersion, RemsFormRecord, ScreeningRecord, SessionRecord
from .clinic_tables import (
    AuditRow,
    ClinicSettingsRow,
    CoverageRow,
    PlanRow,
    RecordVersionRow,
    RemsEnrollmentRow,
    RemsFormRow,
    ScreeningRow,
    SessionRow,
)
from .db import version_conflicts
from .documents import dump, load


class _Versions:
    """Writes every version of a record to ``record_versions``."""

    entity = ""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _version(self, entity_id: object, version: int, snapshot: dict[str, object], by: str, reason: str) -> None:
        self.session.add(
            RecordVersionRow(entity=self.entity, entity_id=str(entity_id), version=version, snapshot=snapshot,
                             changed_at=datetime.now(UTC), changed_by=by, reason=reason)
        )  # fmt: skip

    def _flush(self, what: str) -> None:
        with version_conflicts(what):  # a concurrent writer committed in between
            self.session.flush()

    def history_of(self, entity_id: object) -> Sequence[RecordVersion]:
        rows = self.session.scalars(
            select(RecordVersionRow)
            .where(RecordVersionRow.entity == self.entity, RecordVersionRow.entity_id == str(entity_id))
            .order_by(RecordVersionRow.version)
        ).all()
        return [RecordVersion(r.version, r.snapshot, r.changed_at, r.changed_by, r.reason) for r in rows]


DocumentRow = TypeVar("DocumentRow", RemsEnrollmentRow, CoverageRow)


def _put_patient_document(
    session: Session, kind: type[DocumentRow], entity: str, patient_id: uuid.UUID,
    data: dict[str, object], by: str,
) -> None:  # fmt: skip
    """Store a one-per-patient document, keeping the previous one in ``record_versions``."""
    row = session.get(kind, patient_id)
    now = datetime.now(UTC)
    if row is None:
        session.add(kind(patient_id=patient_id, data=data, updated_at=now, updated_by=by))
    else:
        row.data, row.updated_at, row.updated_by = data, now, by
    session.flush()
    session.add(RecordVersionRow(entity=entity, entity_id=str(patient_id), version=0, snapshot=data, changed_at=now,
                                 changed_by=by, reason=f"{entity} recorded"))  # fmt: skip


def _check_version(what: str, current: int, expected: int) -> None:
    if current != expected:
        raise StaleVersionError(f"{what} is at version {current}, not {expected}; reload and try again")


class SqlScreeningRepository:
    """Screenings (input and report as documents)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: ScreeningRecord) -> None:
        self.session.add(
            ScreeningRow(id=record.id, patient_id=record.patient_id, screened_on=record.screened_on,
                         route=record.input.route, input=dump(record.input), report=dump(record.report),
                         recorded_at=record.recorded_at, recorded_by=record.recorded_by)
        )  # fmt: skip
        self.session.flush()

    def for_patient(self, patient_id: uuid.UUID) -> Sequence[ScreeningRecord]:
        rows = self.session.scalars(
            select(ScreeningRow)
            .where(ScreeningRow.patient_id == patient_id)
            .order_by(ScreeningRow.screened_on, ScreeningRow.recorded_at)
        ).all()
        return [
            ScreeningRecord(r.id, r.patient_id, r.screened_on, load(ScreeningInput, r.input),
                            load(ScreeningReport, r.report), r.recorded_at, r.recorded_by)
            for r in rows
        ]  # fmt: skip


class SqlPlanRepository(_Versions):
    """Treatment plans, versioned."""

    entity = "plan"

    def add(self, record: PlanRecord, by: str, reason: str) -> None:
        data = dump(record.plan)
        self.session.add(
            PlanRow(id=record.id, patient_id=record.patient_id, protocol_id=record.plan.protocol.id,
                    start=record.plan.start, status=record.status, data=data, updated_at=datetime.now(UTC),
                    updated_by=by)
        )  # fmt: skip
        self._flush(f"plan {record.id}")
        self._version(record.id, 1, {"status": record.status, "plan": data}, by, reason)

    def _row(self, plan_id: uuid.UUID) -> PlanRow:
        row = self.session.get(PlanRow, plan_id)
        if row is None:
            raise NotFoundError(f"plan {plan_id}")
        return row

    @staticmethod
    def _record(row: PlanRow) -> PlanRecord:
        return PlanRecord(row.id, row.patient_id, load(TreatmentPlan, row.data), row.status, row.version)

    def get(self, plan_id: uuid.UUID) -> PlanRecord:
        return self._record(self._row(plan_id))

    def update(self, record: PlanRecord, expected_version: int, by: str, reason: str) -> int:
        row = self._row(record.id)
        _check_version(f"plan {record.id}", row.version, expected_version)
        row.data, row.status = dump(record.plan), record.status
        row.updated_at, row.updated_by = datetime.now(UTC), by
        self._flush(f"plan {record.id}")
        self._version(record.id, row.version, {"status": row.status, "plan": row.data}, by, reason)
        return row.version

    def for_patient(self, patient_id: uuid.UUID) -> Sequence[PlanRecord]:
        rows = self.session.scalars(select(PlanRow).where(PlanRow.patient_id == patient_id).order_by(PlanRow.start))
        return [self._record(r) for r in rows]


class SqlSessionRepository(_Versions):
    """Treatment sessions, versioned; ``state`` and ``scheduled_at`` are columns for the day's list."""

    entity = "session"

    def add(self, record: SessionRecord, by: str, reason: str) -> None:
        s = record.session
        data = dump(s)
        self.session.add(
            SessionRow(id=record.id, patient_id=record.patient_id, plan_id=record.plan_id, number=record.number,
                       kind=s.kind.value, scheduled_at=s.scheduled_at, state=s.state.value, data=data,
                       updated_at=datetime.now(UTC), updated_by=by)
        )  # fmt: skip
        self._flush(f"session {record.id}")
        self._version(record.id, 1, data, by, reason)

    def _row(self, session_id: uuid.UUID) -> SessionRow:
        row = self.session.get(SessionRow, session_id)
        if row is None:
            raise NotFoundError(f"session {session_id}")
        return row

    @staticmethod
    def _record(row: SessionRow) -> SessionRecord:
        return SessionRecord(row.id, row.patient_id, load(TreatmentSession, row.data), row.plan_id, row.number,
                             row.version)  # fmt: skip

    def get(self, session_id: uuid.UUID) -> SessionRecord:
        return self._record(self._row(session_id))

    def update(self, record: SessionRecord, expected_version: int, by: str, reason: str) -> int:
        row = self._row(record.id)
        _check_version(f"session {record.id}", row.version, expected_version)
        s = record.session
        row.data, row.state, row.scheduled_at = dump(s), s.state.value, s.scheduled_at
        row.updated_at, row.updated_by = datetime.now(UTC), by
        self._flush(f"session {record.id}")
        self._version(record.id, row.version, row.data, by, reason)
        return row.version

    def for_patient(self, patient_id: uuid.UUID) -> Sequence[SessionRecord]:
        rows = self.session.scalars(
            select(SessionRow).where(SessionRow.patient_id == patient_id).order_by(SessionRow.scheduled_at)
        )
        return [self._record(r) for r in rows]

    def scheduled_between(self, start: datetime, end: datetime) -> Sequence[SessionRecord]:
        rows = self.session.scalars(
            select(SessionRow)
            .where(SessionRow.scheduled_at >= start, SessionRow.scheduled_at < end)
            .order_by(SessionRow.scheduled_at)
        )
        return [self._record(r) for r in rows]

    def history(self, session_id: uuid.UUID) -> Sequence[RecordVersion]:
        self._row(session_id)
        return self.history_of(session_id)


class SqlRemsRepository(_Versions):
    """REMS enrolments and Patient Monitoring Forms."""

    entity = "rems_form"

    def enrollment(self, patient_id: uuid.UUID) -> RemsEnrollment | None:
        row = self.session.get(RemsEnrollmentRow, patient_id)
        return None if row is None else load(RemsEnrollment, row.data)

    def put_enrollment(self, patient_id: uuid.UUID, enrollment: RemsEnrollment, by: str) -> None:
        _put_patient_document(self.session, RemsEnrollmentRow, "rems_enrollment", patient_id, dump(enrollment), by)

    def add_form(self, record: RemsFormRecord, by: str) -> None:
        data = dump(record.form)
        self.session.add(
            RemsFormRow(id=record.id, session_id=record.session_id, patient_id=record.patient_id,
                        treatment_date=record.form.treatment_date, data=data, submitted_on=record.submitted_on,
                        updated_at=datetime.now(UTC), updated_by=by)
        )  # fmt: skip
        self._flush(f"REMS form {record.id}")
        self._version(record.id, 1, {"form": data, "submitted_on": None}, by, "built at discharge")

    def _row(self, form_id: uuid.UUID) -> RemsFormRow:
        row = self.session.get(RemsFormRow, form_id)
        if row is None:
            raise NotFoundError(f"REMS form {form_id}")
        return row

    @staticmethod
    def _record(row: RemsFormRow) -> RemsFormRecord:
        form = load(PatientMonitoringForm, row.data)
        return RemsFormRecord(row.id, row.session_id, row.patient_id, form, row.submitted_on, row.version)

    def get_form(self, form_id: uuid.UUID) -> RemsFormRecord:
        return self._record(self._row(form_id))

    def update_form(self, record: RemsFormRecord, expected_version: int, by: str, reason: str) -> int:
        row = self._row(record.id)
        _check_version(f"REMS form {record.id}", row.version, expected_version)
        row.data, row.submitted_on = dump(record.form), record.submitted_on
        row.updated_at, row.updated_by = datetime.now(UTC), by
        self._flush(f"REMS form {record.id}")
        submitted = None if row.submitted_on is None else row.submitted_on.isoformat()
        self._version(record.id, row.version, {"form": row.data, "submitted_on": submitted}, by, reason)
        return row.version

    def forms(self, patient_id: uuid.UUID | None = None) -> Sequence[RemsFormRecord]:
        query = select(RemsFormRow).order_by(RemsFormRow.treatment_date)
        if patient_id is not None:
            query = query.where(RemsFormRow.patient_id == patient_id)
        return [self._record(r) for r in self.session.scalars(query)]


class SqlCoverageRepository:
    """Patients' insurance coverage."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, patient_id: uuid.UUID) -> Coverage | None:
        row = self.session.get(CoverageRow, patient_id)
        return None if row is None else load(Coverage, row.data)

    def version(self, patient_id: uuid.UUID) -> int:
        row = self.session.get(CoverageRow, patient_id)
        return 0 if row is None else row.version

    def put(self, patient_id: uuid.UUID, coverage: Coverage, by: str, expected_version: int) -> int:
        _check_version(f"coverage of patient {patient_id}", self.version(patient_id), expected_version)
        with version_conflicts(f"coverage of patient {patient_id}"):
            _put_patient_document(self.session, CoverageRow, "coverage", patient_id, dump(coverage), by)
        return self.version(patient_id)


class SqlSettingsRepository(_Versions):
    """The clinic's settings (one row)."""

    entity = "clinic_settings"

    def get(self) -> tuple[ClinicSettings, int]:
        row = self.session.get(ClinicSettingsRow, 1)
        if row is None:
            raise NotFoundError("clinic settings: none stored yet (run `ketamine-therapy demo seed` or set them)")
        return load(ClinicSettings, row.data), row.version

    def put(self, settings: ClinicSettings, expected_version: int | None, by: str, reason: str) -> int:
        row = self.session.get(ClinicSettingsRow, 1)
        now, data = datetime.now(UTC), dump(settings)
        if row is None:
            if expected_version is not None:
                raise ConflictError("clinic settings do not exist yet")
            row = ClinicSettingsRow(id=1, data=data, updated_at=now, updated_by=by)
            self.session.add(row)
        else:
            _check_version("clinic settings", row.version, expected_version or 0)
            row.data, row.updated_at, row.updated_by = data, now, by
        self._flush("clinic settings")
        self._version(1, row.version, data, by, reason)
        return row.version


class SqlAuditLog:
    """The append-only audit log (the database refuses UPDATE and DELETE on it)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, entry: AuditEntry) -> None:
        self.session.add(
            AuditRow(id=entry.id, at=entry.at, username=entry.username, role=entry.role, source=entry.source,
                     action=entry.action, entity=entry.entity, entity_id=entry.entity_id,
                     patient_id=entry.patient_id, detail=entry.detail)
        )  # fmt: skip
        self.session.flush()

    def entries(self, limit: int = 100, offset: int = 0, patient_id: uuid.UUID | None = None) -> Sequence[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id).limit(limit).offset(offset)
        if patient_id is not None:
            query = query.where(AuditRow.patient_id == patient_id)
        return [AuditEntry(r.at, r.username, r.role, r.source, r.action, r.entity, r.entity_id, r.patient_id,
                           r.detail, r.id) for r in self.session.scalars(query)]  # fmt: skip
