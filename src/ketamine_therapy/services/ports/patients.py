"""Ports of patients' records: the patient (versioned), scales, screenings and insurance coverage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from ...clinic.costs import Coverage
from ...clinic.patients import Patient
from ...clinic.records import RecordedScale
from ...clinic.screening import ScreeningInput, ScreeningReport


@dataclass(frozen=True)
class PatientVersion:
    """One stored version of a patient's record: nothing is overwritten without a trace."""

    version: int
    patient: Patient
    changed_at: datetime
    changed_by: str
    reason: str


class PatientRepository(Protocol):
    """Patients by id; every change is kept as a version with who, when and why."""

    def add(self, patient: Patient, by: str, reason: str) -> None: ...
    def get(self, patient_id: uuid.UUID) -> tuple[Patient, int]: ...
    def update(self, patient: Patient, expected_version: int, by: str, reason: str) -> int: ...
    def list(self, limit: int = 100, offset: int = 0) -> Sequence[Patient]: ...
    def history(self, patient_id: uuid.UUID) -> Sequence[PatientVersion]: ...


class ScaleRepository(Protocol):
    """Recorded scales by patient."""

    def add(self, record: RecordedScale) -> None: ...
    def for_patient(self, patient_id: uuid.UUID) -> Sequence[RecordedScale]: ...
    def taken_since(self, day: date) -> Sequence[RecordedScale]: ...


@dataclass(frozen=True)
class ScreeningRecord:
    """A stored screening: what the clinician entered and what the rules found."""

    id: uuid.UUID
    patient_id: uuid.UUID
    screened_on: date
    input: ScreeningInput
    report: ScreeningReport
    recorded_at: datetime
    recorded_by: str


class ScreeningRepository(Protocol):
    def add(self, record: ScreeningRecord) -> None: ...
    def for_patient(self, patient_id: uuid.UUID) -> Sequence[ScreeningRecord]: ...


class CoverageRepository(Protocol):
    def get(self, patient_id: uuid.UUID) -> Coverage | None: ...
    def version(self, patient_id: uuid.UUID) -> int:
        """The stored coverage's version (0: none recorded yet)."""
        ...

    def put(self, patient_id: uuid.UUID, coverage: Coverage, by: str, expected_version: int) -> int:
        """Store the coverage if it is still at ``expected_version`` (else ``StaleVersionError``); the new version."""
        ...
