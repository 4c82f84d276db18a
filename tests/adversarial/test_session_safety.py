"""Session safety found in the browser (issue 10): overlapping doses for one patient, sessions far from their
scheduled date, and a discharge contradicting the recorded vitals; overrides need a reason and are audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ketamine_therapy.clinic.sessions import (
    ConcurrentSessionError,
    DischargeAssessment,
    OverrideRequiredError,
    SessionState,
)
from ketamine_therapy.services import treatment
from ketamine_therapy.services.audit import audit_entries
from ketamine_therapy.services.authorization import PermissionDeniedError
from tests.integration.conftest import postgres_url  # noqa: F401 - used by the ``clinic`` fixture

from .clinic_harness import ADMIN, CHECKS, NURSE, PRESCRIBER, Clinic, clinic_fixture  # noqa: F401

ALL_YES = DischargeAssessment(True, True, True, True, True)
IV = treatment.DoseOrder(mg_per_kg=0.5, duration_min=40, weight_kg=70)


def _dosing(clinic: Clinic, record: treatment.SessionRecord, at: datetime) -> treatment.SessionRecord:
    r = treatment.check_in_session(clinic.new_uow(), NURSE, record.id, record.version, CHECKS, at)
    return treatment.start_dosing_session(clinic.new_uow(), NURSE, r.id, r.version, IV, at + timedelta(minutes=5))


def test_two_sessions_of_one_patient_never_run_at_once(clinic: Clinic) -> None:
    """Session 6 was started 15 minutes after session 5's infusion began: both ran at once."""
    patient = clinic.patient()
    start = datetime.now(UTC) - timedelta(minutes=30)
    fifth, sixth = clinic.session(patient, start), clinic.session(patient, start)
    _dosing(clinic, fifth, start)
    with pytest.raises(ConcurrentSessionError, match="still dosing"):
        treatment.check_in_session(clinic.new_uow(), NURSE, sixth.id, sixth.version, CHECKS,
                                   start + timedelta(minutes=20))  # fmt: skip
    assert treatment.get_session(clinic.new_uow(), NURSE, sixth.id).session.state is SessionState.SCHEDULED


def test_two_check_ins_that_race_past_the_check_cannot_both_commit(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both nurses read the patient's sessions before either check-in committed, so neither domain check sees the
    other open session (simulated by hiding the other sessions from the check): the database refuses the second."""
    patient = clinic.patient()
    start = datetime.now(UTC) - timedelta(minutes=30)
    fifth, sixth = clinic.session(patient, start), clinic.session(patient, start)
    monkeypatch.setattr(treatment, "_others", lambda uow, record: ())
    treatment.check_in_session(clinic.new_uow(), NURSE, fifth.id, fifth.version, CHECKS, start)
    with pytest.raises(ConcurrentSessionError, match="at the same moment"):
        treatment.check_in_session(clinic.new_uow(), NURSE, sixth.id, sixth.version, CHECKS, start)
    assert treatment.get_session(clinic.new_uow(), NURSE, sixth.id).session.state is SessionState.SCHEDULED


def test_a_dose_soon_after_another_needs_a_prescribers_override(clinic: Clinic) -> None:
    patient = clinic.patient()
    start = datetime.now(UTC) - timedelta(hours=3)
    first = _dosing(clinic, clinic.session(patient, start), start)
    treatment.stop_session(clinic.new_uow(), NURSE, first.id, first.version, "nausea", start + timedelta(minutes=20))
    second = clinic.session(patient, start + timedelta(hours=2))
    now = start + timedelta(hours=2)
    second = treatment.check_in_session(clinic.new_uow(), NURSE, second.id, second.version, CHECKS, now)
    with pytest.raises(OverrideRequiredError) as info:
        treatment.start_dosing_session(clinic.new_uow(), NURSE, second.id, second.version, IV, now)
    assert "apart (clinic minimum 1 day, 0:00:00)" in info.value.warnings[0]
    forged = treatment.DoseOrder(0.5, duration_min=40, weight_kg=70, override_reason="nurse cannot")
    with pytest.raises(PermissionDeniedError):
        treatment.start_dosing_session(clinic.new_uow(), NURSE, second.id, second.version, forged, now)
    reason = "first infusion stopped after 15 min; repeat agreed"
    order = treatment.DoseOrder(0.5, duration_min=40, weight_kg=70, override_reason=reason)
    dosed = treatment.start_dosing_session(clinic.new_uow(), PRESCRIBER, second.id, second.version, order, now)
    [ack] = dosed.session.acknowledged
    assert (ack.by, ack.reason) == (PRESCRIBER.username, reason)
    assert any(reason in (e.detail or "") and "clinic minimum" in (e.detail or "")
               for e in audit_entries(clinic.new_uow(), ADMIN, limit=20))  # fmt: skip


def test_a_session_far_from_its_scheduled_date_needs_an_override(clinic: Clinic) -> None:
    """The nurse ran a session two days before it was scheduled, with no warning."""
    record = clinic.session(clinic.patient(), datetime.now(UTC) + timedelta(days=2))
    now = datetime.now(UTC)
    with pytest.raises(OverrideRequiredError) as info:
        treatment.check_in_session(clinic.new_uow(), NURSE, record.id, record.version, CHECKS, now)
    assert "run before its scheduled time" in info.value.warnings[0]
    checked = treatment.check_in_session(clinic.new_uow(), PRESCRIBER, record.id, record.version, CHECKS, now,
                                         override_reason="patient travels on the scheduled day")  # fmt: skip
    assert checked.session.state is SessionState.CHECKED_IN
    assert checked.session.acknowledged[0].reason == "patient travels on the scheduled day"


def test_a_discharge_contradicting_the_recorded_vitals_needs_an_override(clinic: Clinic) -> None:
    """Discharged with every criterion attested "yes" while the last vitals were BP 182/108, SpO2 89%, RR 9."""
    start = datetime.now(UTC) - timedelta(hours=2)
    r = _dosing(clinic, clinic.session(clinic.patient(), start), start)
    r = treatment.begin_monitoring(clinic.new_uow(), NURSE, r.id, r.version, start + timedelta(minutes=45))
    r = treatment.add_vitals(clinic.new_uow(), NURSE, r.id, r.version, start + timedelta(minutes=100), systolic=182,
                             diastolic=108, spo2=89, respiratory_rate=9)  # fmt: skip
    leave = start + timedelta(minutes=105)
    with pytest.raises(OverrideRequiredError) as info:
        treatment.discharge_session(clinic.new_uow(), NURSE, r.id, r.version, ALL_YES, leave)
    text = " ".join(info.value.warnings)
    for finding in ("BP 182/108", "SpO2 89%"):  # RR 9 is above the sourced hypoventilation bound (< 8/min)
        assert finding in text
    assert treatment.get_session(clinic.new_uow(), NURSE, r.id).session.state is SessionState.MONITORING
    reason = "anaesthetist reviewed; transferred to the emergency department"
    done = treatment.discharge_session(clinic.new_uow(), NURSE, r.id, r.version, ALL_YES, leave,
                                       override_reason=reason)  # fmt: skip
    assert done.session.state is SessionState.DISCHARGED
    assert done.session.acknowledged[-1].reason == reason
    assert any(reason in (e.detail or "") for e in audit_entries(clinic.new_uow(), ADMIN, limit=20))


def test_a_discharge_without_recent_vitals_needs_an_override(clinic: Clinic) -> None:
    start = datetime.now(UTC) - timedelta(hours=2)
    r = _dosing(clinic, clinic.session(clinic.patient(), start), start)
    r = treatment.begin_monitoring(clinic.new_uow(), NURSE, r.id, r.version, start + timedelta(minutes=45))
    r = treatment.add_vitals(clinic.new_uow(), NURSE, r.id, r.version, start + timedelta(minutes=50), systolic=124,
                             diastolic=80, spo2=98, respiratory_rate=14)  # fmt: skip
    with pytest.raises(OverrideRequiredError, match="no BP recorded in the 15 min before discharge"):
        treatment.discharge_session(clinic.new_uow(), NURSE, r.id, r.version, ALL_YES, start + timedelta(minutes=90))
