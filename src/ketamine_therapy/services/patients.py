"""Use cases: register, read and correct patients; record and read rating scales. Each is one transaction,
checked against the actor's role and written to the audit log. Dates (birth, weights, consents, scales) may not
be after the clinic's today (clock port) nor before 1900."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.patients import ConsentRecord, Patient, WeightRecord
from ..clinic.quantities import check_day
from ..clinic.records import RecordedScale
from ..clinic.scales import score
from .audit import audit, audit_list
from .authorization import Actor, Permission
from .clock import Clock, clinic_today, stored_settings, utc_now
from .ports import UnitOfWork
from .ports.patients import PatientVersion

__all__ = [
    "correct_patient",
    "get_patient",
    "list_patients",
    "patient_history",
    "record_consent",
    "record_scale",
    "register_patient",
    "scales_for",
]


def register_patient(
    uow: UnitOfWork, actor: Actor, patient: Patient, weight: WeightRecord | None = None, *, clock: Clock = utc_now
) -> uuid.UUID:
    """Store a new patient (and a first weight) as version 1; returns the patient's id."""
    actor.require(Permission.PATIENT_WRITE)
    with uow:
        patient = patient.with_weight(weight) if weight else patient
        patient.check_dates(clinic_today(stored_settings(uow), clock))
        uow.patients.add(patient, actor.username, "registered")
        audit(uow, actor, "create", "patient", patient.id, patient.id)
        uow.commit()
    return patient.id


def get_patient(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID) -> tuple[Patient, int]:
    """A patient and the version to send back with a correction."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        found = uow.patients.get(patient_id)
        audit(uow, actor, "read", "patient", patient_id, patient_id)
        uow.commit()
    return found


def list_patients(uow: UnitOfWork, actor: Actor, *, limit: int = 50, offset: int = 0) -> Sequence[Patient]:
    """Patients by family name, a page at a time."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        patients = uow.patients.list(limit, offset)
        audit_list(uow, actor, "patient-list", (p.id for p in patients), f"limit={limit} offset={offset}")
        uow.commit()
    return patients


def patient_history(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID) -> Sequence[PatientVersion]:
    """Every version of a patient's record, with who, when and why."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        history = uow.patients.history(patient_id)
        audit(uow, actor, "read", "patient-history", patient_id, patient_id)
        uow.commit()
    return history


def correct_patient(
    uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID, expected_version: int, *, reason: str,
    clock: Clock = utc_now, **changes: object,
) -> int:  # fmt: skip
    """Apply validated corrections if nobody changed the patient since ``expected_version``.

    The correction becomes a new version recording who (the actor) and why (``reason``); the previous
    version stays in the history. Returns the new version number.
    """
    actor.require(Permission.PATIENT_WRITE)
    if not reason.strip():
        raise InvalidAnswerError("reason", "is empty", "why the record is corrected")
    with uow:
        current, _ = uow.patients.get(patient_id)
        updated = replace(current, **changes)  # type: ignore[arg-type]  # re-validated by __post_init__
        updated.check_dates(clinic_today(stored_settings(uow), clock))
        version = uow.patients.update(updated, expected_version, actor.username, reason)
        audit(uow, actor, "update", "patient", patient_id, patient_id, f"{', '.join(sorted(changes))}: {reason}")
        uow.commit()
    return version


def record_consent(
    uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID, expected_version: int, document: str, signed_on: date,
    *, clock: Clock = utc_now,
) -> int:  # fmt: skip
    """File a signed consent document (a new version of the patient); returns the new version."""
    actor.require(Permission.PATIENT_WRITE)
    consent = ConsentRecord(document, signed_on, actor.username)
    with uow:
        check_day("signed_on", signed_on, clinic_today(stored_settings(uow), clock))
        current, _ = uow.patients.get(patient_id)
        version = uow.patients.update(current.with_consent(consent), expected_version, actor.username,
                                      f"consent filed: {document} signed {signed_on}")  # fmt: skip
        audit(uow, actor, "update", "consent", patient_id, patient_id, document)
        uow.commit()
    return version


def record_scale(
    uow: UnitOfWork,
    actor: Actor,
    patient_id: uuid.UUID,
    scale_id: str,
    answers: Sequence[int],
    taken_on: date,
    clock: Clock = utc_now,
) -> RecordedScale:
    """Score ``answers`` and store them item by item with the total, band and flags."""
    actor.require(Permission.SCALE_WRITE)
    result = score(scale_id, answers)
    record = RecordedScale(patient_id, taken_on, result, clock(), actor.username)
    with uow:
        check_day("taken_on", taken_on, clinic_today(stored_settings(uow), clock))
        uow.patients.get(patient_id)  # raises NotFoundError for an unknown patient
        uow.scales.add(record)
        audit(uow, actor, "create", "scale", record.id, patient_id, scale_id)
        uow.commit()
    return record


def scales_for(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID) -> Sequence[RecordedScale]:
    """A patient's recorded scales, oldest first."""
    actor.require(Permission.SCALE_READ)
    with uow:
        uow.patients.get(patient_id)
        records = uow.scales.for_patient(patient_id)
        audit(uow, actor, "read", "scale", patient_id=patient_id, detail=f"n={len(records)}")
        uow.commit()
    return records
