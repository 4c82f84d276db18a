"""Hard invariants in the domain (issue 10): dates in a plausible window, the dosing weight, and one clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.patients import WeightRecord
from ketamine_therapy.services import treatment
from ketamine_therapy.services.demo_clinic import demo_settings
from ketamine_therapy.services.patients import get_patient
from tests.integration.conftest import postgres_url  # noqa: F401 - used by the ``clinic`` fixture

from .clinic_harness import CHECKS, NURSE, Clinic, clinic_fixture  # noqa: F401

TODAY = datetime.now(UTC).date()


@pytest.mark.parametrize("measured_on", [TODAY + timedelta(days=365 * 36), date(1899, 12, 31)])
def test_a_weight_dated_in_the_future_or_before_1900_is_refused(clinic: Clinic, measured_on: date) -> None:
    """A weight dated 2062 was stored and silently became the dosing weight."""
    patient = clinic.patient()
    r = clinic.api("prescriber", "POST", f"/patients/{patient}/weights",
                   {"measured_on": measured_on.isoformat(), "weight_kg": 140}, version=1)  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "measured_on"
    assert [w.weight_kg for w in get_patient(clinic.new_uow(), NURSE, patient)[0].weights] == [71.0]


def test_scores_and_vitals_in_the_future_are_refused(clinic: Clinic) -> None:
    patient = clinic.patient()
    body = {"scale_id": "PHQ-9", "answers": [0] * 9, "taken_on": (TODAY + timedelta(days=2)).isoformat()}
    r = clinic.api("nurse", "POST", f"/patients/{patient}/scales", body)
    assert (r.status_code, r.json()["field"]) == (422, "taken_on")
    record = clinic.session(patient)
    record = treatment.check_in_session(clinic.new_uow(), NURSE, record.id, record.version, CHECKS,
                                        datetime.now(UTC))  # fmt: skip
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    r = clinic.api("nurse", "POST", f"/sessions/{record.id}/vitals", {"at": later, "heart_rate": 80},
                   version=record.version)  # fmt: skip
    assert (r.status_code, r.json()["field"]) == (422, "at")
    assert treatment.get_session(clinic.new_uow(), NURSE, record.id).session.vitals == ()


def test_the_dosing_weight_is_the_latest_not_in_the_future(clinic: Clinic) -> None:
    """Even if a future-dated weight is on file (older data), the dose is computed from today's latest weight."""
    patient_id = clinic.patient(weight_kg=71.0, weighed_days_ago=2)
    with clinic.new_uow() as uow:  # a legacy record, stored before the date rule existed
        patient, version = uow.patients.get(patient_id)
        uow.patients.update(patient.with_weight(WeightRecord(date(2062, 1, 1), 140.0)), version, "legacy", "import")
        uow.commit()
    record = clinic.session(patient_id)
    now = datetime.now(UTC)
    record = treatment.check_in_session(clinic.new_uow(), NURSE, record.id, record.version, CHECKS, now)
    order = treatment.DoseOrder(mg_per_kg=0.5, duration_min=40)
    dosed = treatment.start_dosing_session(clinic.new_uow(), NURSE, record.id, record.version, order, now)
    assert dosed.session.dose is not None
    assert dosed.session.dose.total_mg == pytest.approx(0.5 * 71.0)


def test_an_old_weight_is_a_warning_the_nurse_acknowledges(clinic: Clinic) -> None:
    days = demo_settings().weight_max_age_days + 10
    record = clinic.session(clinic.patient(weight_kg=80.0, weighed_days_ago=days))
    now = datetime.now(UTC)
    record = treatment.check_in_session(clinic.new_uow(), NURSE, record.id, record.version, CHECKS, now)
    order = treatment.DoseOrder(mg_per_kg=0.5, duration_min=40)
    with pytest.raises(InvalidAnswerError) as info:
        treatment.start_dosing_session(clinic.new_uow(), NURSE, record.id, record.version, order, now)
    assert info.value.field == "acknowledge_weight"
    assert f"{days} days ago" in info.value.message
    acked = replace(order, acknowledge_weight=True)
    dosed = treatment.start_dosing_session(clinic.new_uow(), NURSE, record.id, record.version, acked, now)
    assert [a.reason for a in dosed.session.acknowledged] == ["old weight acknowledged"]


def test_today_comes_from_the_clinic_clock_not_the_server_clock(clinic: Clinic) -> None:
    """The API's default day follows the clock port in the clinic's time zone (late evening in New York is
    already tomorrow in UTC)."""
    settings = demo_settings()
    clock_now = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)  # 22:30 on 2 March in New York
    patient = clinic.patient()
    clinic.session(patient, settings.appointment(date(2026, 3, 2)))
    clinic.client().app.state.context.clock = lambda: clock_now  # type: ignore[attr-defined]
    try:
        listed = clinic.api("nurse", "GET", "/sessions").json()
    finally:
        clinic.client().app.state.context.clock = lambda: datetime.now(UTC)  # type: ignore[attr-defined]
    assert str(patient) in {s["patient_id"] for s in listed}
