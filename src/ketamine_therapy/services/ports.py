"""Ports the use cases depend on; storage/ implements them (tests can use fakes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from ..clinic.patients import Patient
from ..clinic.records import RecordedScale
from .account_ports import AuthSessionRepository, QuestionnaireLinkRepository, UserRepository
from .record_ports import (
    AuditLog,
    CoverageRepository,
    PlanRepository,
    RemsRepository,
    ScreeningRepository,
    SessionRepository,
    SettingsRepository,
)


class NotFoundError(LookupError):
    """No record with that id."""


class ConflictError(RuntimeError):
    """The change conflicts with the stored state (a taken name, a record changed since it was read)."""


class StaleVersionError(ConflictError):
    """Someone else changed the record since it was read (optimistic locking): HTTP 412, reload and retry."""


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


class UnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without commit rolls back."""

    patients: PatientRepository
    scales: ScaleRepository
    screenings: ScreeningRepository
    plans: PlanRepository
    sessions: SessionRepository
    rems: RemsRepository
    coverages: CoverageRepository
    settings: SettingsRepository
    audit: AuditLog
    users: UserRepository
    auth_sessions: AuthSessionRepository
    questionnaire_links: QuestionnaireLinkRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
