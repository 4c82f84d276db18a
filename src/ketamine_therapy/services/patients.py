"""Use cases: register and correct patients, record rating scales. Each is one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.patients import Patient, WeightRecord
from ..clinic.records import RecordedScale
from ..clinic.scales import score
from .ports import UnitOfWork

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def register_patient(
    uow: UnitOfWork, patient: Patient, weight: WeightRecord | None = None, *, by: str = "system"
) -> uuid.UUID:
    """Store a new patient (and a first weight) as version 1; returns the patient's id."""
    with uow:
        uow.patients.add(patient.with_weight(weight) if weight else patient, by, "registered")
        uow.commit()
    return patient.id


def correct_patient(
    uow: UnitOfWork, patient_id: uuid.UUID, expected_version: int, *, by: str, reason: str, **changes: object
) -> int:
    """Apply validated corrections if nobody changed the patient since ``expected_version``.

    The correction becomes a new version recording ``by`` (who) and ``reason`` (why); the previous
    version stays in the history. Returns the new version number.
    """
    for field, value in (("by", by), ("reason", reason)):
        if not value.strip():
            raise InvalidAnswerError(field, "is empty", "who corrected the record and why")
    with uow:
        current, _ = uow.patients.get(patient_id)
        updated = replace(current, **changes)  # type: ignore[arg-type]  # re-validated by __post_init__
        version = uow.patients.update(updated, expected_version, by, reason)
        uow.commit()
    return version


def record_scale(
    uow: UnitOfWork,
    patient_id: uuid.UUID,
    scale_id: str,
    answers: Sequence[int],
    taken_on: date,
    recorded_by: str,
    clock: Clock = utc_now,
) -> RecordedScale:
    """Score ``answers`` and store them item by item with the total, band and flags."""
    result = score(scale_id, answers)
    record = RecordedScale(patient_id, taken_on, result, clock(), recorded_by)
    with uow:
        uow.patients.get(patient_id)  # raises NotFoundError for an unknown patient
        uow.scales.add(record)
        uow.commit()
    return record
