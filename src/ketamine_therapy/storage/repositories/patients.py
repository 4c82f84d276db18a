"""SQLAlchemy repositories of patients' records (services.ports.patients)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ...clinic.costs import Coverage
from ...clinic.patients import ConsentRecord, Patient, WeightRecord
from ...clinic.records import RecordedScale
from ...clinic.scales import ScaleResult
from ...clinic.screening import ScreeningInput, ScreeningReport
from ...services.ports import StaleVersionError
from ...services.ports.patients import (
    PatientVersion,
    ScreeningRecord,
)
from ..db import store_conflicts
from ..documents import dump, load
from ..tables.patients import CoverageRow, PatientRow, ScaleResultRow, ScreeningRow, WeightRow
from .versions import VersionedRepository, check_version, get_row, put_patient_document


def _snapshot(patient: Patient) -> dict[str, object]:
    return {
        "given_name": patient.given_name, "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(), "sex": patient.sex, "email": patient.email,
        "phone": patient.phone, "weights": [[w.measured_on.isoformat(), w.weight_kg] for w in patient.weights],
        "consents": _consents(patient),
    }  # fmt: skip


def _consents(patient: Patient) -> list[dict[str, str]]:
    return [{"document": c.document, "signed_on": c.signed_on.isoformat(), "recorded_by": c.recorded_by}
            for c in patient.consents]  # fmt: skip


def _consent_records(data: object) -> tuple[ConsentRecord, ...]:
    assert isinstance(data, list)
    return tuple(ConsentRecord(c["document"], date.fromisoformat(c["signed_on"]), c["recorded_by"]) for c in data)


def _from_snapshot(data: dict[str, object], patient_id: uuid.UUID) -> Patient:
    weights = data["weights"]
    assert isinstance(weights, list)
    return Patient(
        given_name=str(data["given_name"]), family_name=str(data["family_name"]),
        date_of_birth=date.fromisoformat(str(data["date_of_birth"])), sex=str(data["sex"]),
        email=None if data["email"] is None else str(data["email"]),
        phone=None if data["phone"] is None else str(data["phone"]),
        weights=tuple(WeightRecord(date.fromisoformat(d), float(kg)) for d, kg in weights), id=patient_id,
        consents=_consent_records(data.get("consents", [])),
    )  # fmt: skip


def _patient(row: PatientRow, weights: Sequence[WeightRow]) -> Patient:
    return Patient(
        given_name=row.given_name,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        sex=row.sex,
        email=row.email,
        phone=row.phone,
        weights=tuple(WeightRecord(w.measured_on, w.weight_kg) for w in sorted(weights, key=lambda w: w.measured_on)),
        id=row.id,
        consents=_consent_records(row.consents),
    )


class SqlPatientRepository(VersionedRepository):
    """Patients in the ``patients`` and ``weights`` tables; their versions in ``record_versions``."""

    entity = "patient"

    def add(self, patient: Patient, by: str, reason: str) -> None:
        now = datetime.now(UTC)
        self.db.add(
            PatientRow(id=patient.id, given_name=patient.given_name, family_name=patient.family_name,
                       date_of_birth=patient.date_of_birth, sex=patient.sex, email=patient.email,
                       phone=patient.phone, consents=_consents(patient), created_at=now, updated_at=now)
        )  # fmt: skip
        self.db.flush()
        for w in patient.weights:
            self.db.add(WeightRow(patient_id=patient.id, measured_on=w.measured_on, weight_kg=w.weight_kg))
        self.db.flush()
        self._version(patient.id, 1, _snapshot(patient), by, reason, at=now)
        self.db.flush()

    def history(self, patient_id: uuid.UUID) -> Sequence[PatientVersion]:
        return [PatientVersion(v.version, _from_snapshot(v.snapshot, patient_id), v.changed_at, v.changed_by, v.reason)
                for v in self.history_of(patient_id)]  # fmt: skip

    def _row(self, patient_id: uuid.UUID) -> PatientRow:
        return get_row(self.db, PatientRow, patient_id, f"patient {patient_id}")

    def _weights(self, patient_id: uuid.UUID) -> Sequence[WeightRow]:
        return self.db.scalars(select(WeightRow).where(WeightRow.patient_id == patient_id)).all()

    def get(self, patient_id: uuid.UUID) -> tuple[Patient, int]:
        row = self._row(patient_id)
        return _patient(row, self._weights(patient_id)), row.version

    def update(self, patient: Patient, expected_version: int, by: str, reason: str) -> int:
        row = self._row(patient.id)
        if row.version != expected_version:
            raise StaleVersionError(f"patient {patient.id} is at version {row.version}, not {expected_version}")
        for name in ("given_name", "family_name", "date_of_birth", "sex", "email", "phone"):
            setattr(row, name, getattr(patient, name))
        row.consents = _consents(patient)
        row.updated_at = datetime.now(UTC)
        known = {(w.measured_on, w.weight_kg) for w in self._weights(patient.id)}
        for w in patient.weights:
            if (w.measured_on, w.weight_kg) not in known:
                self.db.add(WeightRow(patient_id=patient.id, measured_on=w.measured_on, weight_kg=w.weight_kg))
        with store_conflicts(f"patient {patient.id}"):  # a concurrent writer committed in between
            self.db.flush()
        self._version(patient.id, row.version, _snapshot(patient), by, reason, at=row.updated_at)
        self.db.flush()
        return row.version

    def list(self, limit: int = 100, offset: int = 0) -> Sequence[Patient]:
        rows = self.db.scalars(
            select(PatientRow).order_by(PatientRow.family_name, PatientRow.given_name).limit(limit).offset(offset)
        ).all()
        return [_patient(r, self._weights(r.id)) for r in rows]


class SqlScaleRepository:
    """Recorded scales in ``scale_results`` (item-level answers as JSON)."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, record: RecordedScale) -> None:
        r = record.result
        self.db.add(
            ScaleResultRow(id=record.id, patient_id=record.patient_id, scale_id=r.scale_id, taken_on=record.taken_on,
                           answers=list(r.answers), total=r.total, band=r.band, flags=sorted(r.flags),
                           recorded_at=record.recorded_at, recorded_by=record.recorded_by)
        )  # fmt: skip
        self.db.flush()

    def for_patient(self, patient_id: uuid.UUID) -> Sequence[RecordedScale]:
        return self._records(select(ScaleResultRow).where(ScaleResultRow.patient_id == patient_id))

    def taken_since(self, day: date) -> Sequence[RecordedScale]:
        return self._records(select(ScaleResultRow).where(ScaleResultRow.taken_on >= day))

    def _records(self, query: Select[Any]) -> Sequence[RecordedScale]:
        from ...clinic.scales import score

        rows = self.db.scalars(query.order_by(ScaleResultRow.taken_on, ScaleResultRow.recorded_at)).all()
        out = []
        for row in rows:
            result: ScaleResult = score(row.scale_id, row.answers)  # re-derived from the stored items
            out.append(RecordedScale(row.patient_id, row.taken_on, result, row.recorded_at, row.recorded_by, row.id))
        return out


class SqlScreeningRepository:
    """Screenings (input and report as documents)."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, record: ScreeningRecord) -> None:
        self.db.add(
            ScreeningRow(id=record.id, patient_id=record.patient_id, screened_on=record.screened_on,
                         route=record.input.route, input=dump(record.input), report=dump(record.report),
                         recorded_at=record.recorded_at, recorded_by=record.recorded_by)
        )  # fmt: skip
        self.db.flush()

    def for_patient(self, patient_id: uuid.UUID) -> Sequence[ScreeningRecord]:
        rows = self.db.scalars(
            select(ScreeningRow)
            .where(ScreeningRow.patient_id == patient_id)
            .order_by(ScreeningRow.screened_on, ScreeningRow.recorded_at)
        ).all()
        return [
            ScreeningRecord(r.id, r.patient_id, r.screened_on, load(ScreeningInput, r.input),
                            load(ScreeningReport, r.report), r.recorded_at, r.recorded_by)
            for r in rows
        ]  # fmt: skip


class SqlCoverageRepository:
    """Patients' insurance coverage."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, patient_id: uuid.UUID) -> Coverage | None:
        row = self.db.get(CoverageRow, patient_id)
        return None if row is None else load(Coverage, row.data)

    def version(self, patient_id: uuid.UUID) -> int:
        row = self.db.get(CoverageRow, patient_id)
        return 0 if row is None else row.version

    def put(self, patient_id: uuid.UUID, coverage: Coverage, by: str, expected_version: int) -> int:
        check_version(f"coverage of patient {patient_id}", self.version(patient_id), expected_version)
        with store_conflicts(f"coverage of patient {patient_id}"):
            put_patient_document(self.db, CoverageRow, "coverage", patient_id, dump(coverage), by)
        return self.version(patient_id)
