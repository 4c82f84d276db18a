"""Use cases: screen a patient for a route (TRD status, staging, hard stops, precautions) and keep the result."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from ..clinic.quantities import check_day
from ..clinic.screening import ScreeningInput, screen
from .audit import audit
from .authorization import Actor, Permission
from .clock import Clock, clinic_today, stored_settings, utc_now
from .ports import UnitOfWork
from .ports.patients import ScreeningRecord


def screen_patient(
    uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID, data: ScreeningInput, screened_on: date, *,
    clock: Clock = utc_now,
) -> ScreeningRecord:  # fmt: skip
    """Run the screening rules on ``data`` and store input and report together (``screened_on`` not after today)."""
    actor.require(Permission.SCREENING_WRITE)
    report = screen(data)
    record = ScreeningRecord(uuid.uuid4(), patient_id, screened_on, data, report, clock(), actor.username)
    with uow:
        check_day("screened_on", screened_on, clinic_today(stored_settings(uow), clock))
        uow.patients.get(patient_id)
        uow.screenings.add(record)
        audit(uow, actor, "create", "screening", record.id, patient_id,
              f"route={data.route} trd={report.trd.is_trd} hard_stops={len(report.hard_stops)}")  # fmt: skip
        uow.commit()
    return record


def screenings_for(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID) -> Sequence[ScreeningRecord]:
    """A patient's screenings, oldest first."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        uow.patients.get(patient_id)
        records = uow.screenings.for_patient(patient_id)
        audit(uow, actor, "read", "screening", patient_id=patient_id, detail=f"n={len(records)}")
        uow.commit()
    return records
