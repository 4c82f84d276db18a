"""Spravato REMS: enrolment, Patient Monitoring Form, 7-day submission tracking.

Sources are rows of docs/references/clinical.md §1a ('REMS — who, enrolment, forms', 'PMF fields').
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.rems import (
    FIELD_SOURCES,
    REQUIRED_FIELDS,
    BloodPressure,
    EnrollmentRequiredError,
    HealthcareSetting,
    MonitoringHcp,
    PatientDetails,
    PatientMonitoringForm,
    RemsEnrollment,
    RemsTracker,
    SessionFacts,
    build_monitoring_form,
    due_date,
    require_enrollment,
)

SESSION = date(2026, 3, 2)
ENROLLED = RemsEnrollment("p1", date(2026, 3, 1), patient_signed=True, prescriber_signed=True)


def facts(**changes: object) -> SessionFacts:
    base = SessionFacts(
        patient_id="p1",
        patient=PatientDetails("Ann", "Lee", date(1980, 5, 4), "F"),
        hcp=MonitoringHcp("Bo", "Ng", "555-0100", "bo@clinic.example"),
        setting=HealthcareSetting("Clinic", "1 Main St", "Springfield", "IL", "62701"),
        first_treatment=True,
        treatment_date=SESSION,
        dose_mg=56,
        devices=2,
        total_time_minutes=125,
        bp_before_administration=BloodPressure(128, 82),
        bp_40_min_after=BloodPressure(142, 90),
        bp_before_end_of_session=BloodPressure(130, 84),
        benzodiazepines=False,
        non_benzodiazepine_sedative_hypnotics=False,
        psychostimulants=False,
        maois=False,
        sedation=True,
        sedation_resolved=True,
        dissociation=False,
        respiratory_depression=False,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_every_form_field_has_a_clinical_md_source() -> None:
    names = {f.name for f in dataclasses.fields(PatientMonitoringForm)}
    assert names == set(FIELD_SOURCES)
    assert REQUIRED_FIELDS.issubset(names)
    assert all("clinical.md" in src for src in FIELD_SOURCES.values())


def test_form_covers_every_section_of_the_pmf() -> None:
    """clinical.md 'PMF fields': patient, concomitant meds, HCP, setting, session, evaluation, vitals, BP, AEs."""
    names = set(FIELD_SOURCES)
    expected = {
        "patient_first_name", "patient_middle_initial", "patient_last_name", "patient_birthdate", "patient_sex",
        "first_treatment", "already_enrolled", "benzodiazepines", "non_benzodiazepine_sedative_hypnotics",
        "psychostimulants", "maois", "opioids", "hcp_first_name", "hcp_last_name", "hcp_telephone", "hcp_email",
        "setting_name", "setting_address_1", "setting_address_2", "setting_city", "setting_state", "setting_zip",
        "treatment_date", "dose_administered", "lot_number", "total_time_minutes", "ready_to_leave_minutes",
        "vitals_acceptable_before_administration", "vitals_acceptable_before_end_of_session",
        "bp_before_administration", "bp_40_min_after", "bp_before_end_of_session", "sedation", "dissociation",
        "respiratory_depression", "serious_adverse_events",
    }  # fmt: skip
    assert expected.issubset(names)


def test_build_fills_the_form() -> None:
    form = build_monitoring_form(facts(), ENROLLED)
    assert form.dose_administered == "56 mg"
    assert form.already_enrolled is True
    assert form.sedation_resolved is True
    assert form.dissociation_resolved is None
    assert form.bp_40_min_after == BloodPressure(142, 90)
    assert build_monitoring_form(facts(dose_mg=84, devices=3), ENROLLED).dose_administered == "84 mg"
    assert build_monitoring_form(facts(dose_mg=28, devices=1), ENROLLED).dose_administered == "Other"
    assert build_monitoring_form(facts(first_treatment=False), ENROLLED).already_enrolled is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"patient": PatientDetails("Ann", None, date(1980, 5, 4), "F")}, "patient_last_name"),
        ({"patient": PatientDetails("Ann", "Lee", None, "F")}, "patient_birthdate"),
        ({"hcp": MonitoringHcp("Bo", "Ng", "  ", "bo@clinic.example")}, "hcp_telephone"),
        ({"setting": HealthcareSetting("Clinic", "1 Main St", "Springfield", "IL", None)}, "setting_zip"),
        ({"maois": None}, "maois"),
        ({"treatment_date": None}, "treatment_date"),
        ({"total_time_minutes": None}, "total_time_minutes"),
        ({"bp_40_min_after": None}, "bp_40_min_after"),
        ({"respiratory_depression": None}, "respiratory_depression"),
        ({"dose_mg": None}, "dose_mg"),
        ({"sedation_resolved": None}, "sedation_resolved"),
    ],
)
def test_missing_required_field_is_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidAnswerError) as err:
        build_monitoring_form(facts(**changes), ENROLLED)
    assert err.value.field == field


def test_optional_fields_may_be_blank() -> None:
    """Unstarred on the form: middle initial, address 2, lot number, evaluation question, vital-sign flags."""
    form = build_monitoring_form(facts(), ENROLLED)
    assert form.patient_middle_initial is None
    assert form.lot_number is None
    assert form.ready_to_leave_minutes is None


def test_total_time_must_be_at_least_two_hours() -> None:
    """PMF 'total time… must be ≥120'."""
    with pytest.raises(InvalidAnswerError, match="total_time_minutes"):
        build_monitoring_form(facts(total_time_minutes=119), ENROLLED)
    assert build_monitoring_form(facts(total_time_minutes=120), ENROLLED).total_time_minutes == 120


def test_dose_must_match_devices() -> None:
    """'Dose steps': 28 mg per device."""
    with pytest.raises(InvalidAnswerError, match="devices"):
        build_monitoring_form(facts(dose_mg=84, devices=2), ENROLLED)
    with pytest.raises(InvalidAnswerError, match="dose_mg"):
        build_monitoring_form(facts(dose_mg=50, devices=2), ENROLLED)


def test_implausible_blood_pressure() -> None:
    with pytest.raises(InvalidAnswerError):
        BloodPressure(80, 120)


def test_enrolment_required_before_first_session() -> None:
    """'Patient enrolment': before the first treatment, signed by patient and prescriber."""
    with pytest.raises(EnrollmentRequiredError):
        build_monitoring_form(facts(), None)
    with pytest.raises(EnrollmentRequiredError):
        require_enrollment(dataclasses.replace(ENROLLED, enrolled_on=SESSION + timedelta(days=1)), "p1", SESSION)
    with pytest.raises(EnrollmentRequiredError):
        require_enrollment(dataclasses.replace(ENROLLED, prescriber_signed=False), "p1", SESSION)
    with pytest.raises(EnrollmentRequiredError):
        require_enrollment(ENROLLED, "p2", SESSION)
    same_day = dataclasses.replace(ENROLLED, enrolled_on=SESSION)
    assert require_enrollment(same_day, "p1", SESSION) is same_day


@pytest.mark.parametrize(("day", "status"), [(6, "due"), (7, "due"), (8, "overdue")])
def test_tracker_status_by_day(day: int, status: str) -> None:
    """'Patient Monitoring Form (PMF)': submit within 7 days of the session."""
    tracker = RemsTracker()
    tracker.add("p1", build_monitoring_form(facts(), ENROLLED))
    [tracked] = tracker.statuses(SESSION + timedelta(days=day))
    assert tracked.due_date == SESSION + timedelta(days=7) == due_date(SESSION)
    assert tracked.status == status
    assert [t.status for t in tracker.overdue(SESSION + timedelta(days=day))] == (["overdue"] if day == 8 else [])


def test_tracker_submission() -> None:
    tracker = RemsTracker()
    form = build_monitoring_form(facts(), ENROLLED)
    tracker.add("p1", form)
    with pytest.raises(InvalidAnswerError):
        tracker.add("p1", form)
    tracker.mark_submitted("p1", SESSION, SESSION + timedelta(days=9))
    [before] = tracker.statuses(SESSION + timedelta(days=8))
    assert before.status == "overdue"
    [after] = tracker.statuses(SESSION + timedelta(days=10))
    assert after.status == "submitted"
    assert after.late
    with pytest.raises(InvalidAnswerError, match="submitted_on"):
        tracker.mark_submitted("p1", SESSION, SESSION - timedelta(days=1))
    with pytest.raises(InvalidAnswerError):
        tracker.mark_submitted("p9", SESSION, SESSION)
