"""Ports of the treatment records: plans, sessions and Spravato REMS enrolments and forms (all versioned)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from ...clinic.protocols.calendar import TreatmentPlan
from ...clinic.rems import PatientMonitoringForm, RemsEnrollment
from ...clinic.sessions import Session


@dataclass(frozen=True)
class PlanRecord:
    """A stored plan; ``status`` is ``active`` or ``cancelled`` (plans are never deleted)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    plan: TreatmentPlan
    status: str = "active"
    version: int = 0


@dataclass(frozen=True)
class SessionRecord:
    """A stored treatment session; ``number`` is its place in the plan (if it belongs to one)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    session: Session
    plan_id: uuid.UUID | None = None
    number: int | None = None
    version: int = 0


@dataclass(frozen=True)
class RemsFormRecord:
    """A stored Patient Monitoring Form and its submission date (``None`` = not yet submitted)."""

    id: uuid.UUID
    session_id: uuid.UUID
    patient_id: uuid.UUID
    form: PatientMonitoringForm
    submitted_on: date | None = None
    version: int = 0


@dataclass(frozen=True)
class RecordVersion:
    """One version of a clinic record, as a JSON-ready document."""

    version: int
    snapshot: dict[str, object]
    changed_at: datetime
    changed_by: str
    reason: str


class PlanRepository(Protocol):
    def add(self, record: PlanRecord, by: str, reason: str) -> None: ...
    def get(self, plan_id: uuid.UUID) -> PlanRecord: ...
    def update(self, record: PlanRecord, expected_version: int, by: str, reason: str) -> int: ...
    def for_patient(self, patient_id: uuid.UUID) -> Sequence[PlanRecord]: ...


class SessionRepository(Protocol):
    def add(self, record: SessionRecord, by: str, reason: str) -> None: ...
    def get(self, session_id: uuid.UUID) -> SessionRecord: ...
    def update(self, record: SessionRecord, expected_version: int, by: str, reason: str) -> int: ...
    def for_patient(self, patient_id: uuid.UUID) -> Sequence[SessionRecord]: ...
    def scheduled_between(self, start: datetime, end: datetime) -> Sequence[SessionRecord]: ...
    def history(self, session_id: uuid.UUID) -> Sequence[RecordVersion]: ...


class RemsRepository(Protocol):
    def enrollment(self, patient_id: uuid.UUID) -> RemsEnrollment | None: ...
    def put_enrollment(self, patient_id: uuid.UUID, enrollment: RemsEnrollment, by: str) -> None: ...
    def add_form(self, record: RemsFormRecord, by: str) -> None: ...
    def get_form(self, form_id: uuid.UUID) -> RemsFormRecord: ...
    def update_form(self, record: RemsFormRecord, expected_version: int, by: str, reason: str) -> int: ...
    def forms(self, patient_id: uuid.UUID | None = None) -> Sequence[RemsFormRecord]: ...
