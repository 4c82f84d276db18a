"""Spravato (esketamine nasal spray) REMS for outpatient settings: enrolment, Patient Monitoring Form, 7-day tracking.

Every field and rule cites its row in ``docs/references/clinical.md`` (``SRC_*`` constants and
:data:`FIELD_SOURCES`). Inpatient settings need neither enrolment nor PMFs (clinical.md §1a 'Inpatient settings'),
so this module covers outpatient settings only. REMS identifiers (patient / setting REMS numbers) are not in
clinical.md's field list and are left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, TypeVar

from ketamine_therapy.clinic.exceptions import ClinicError, InvalidAnswerError

SRC_ENROLMENT = (
    "clinical.md §1a 'Patient enrolment': outpatient settings enrol each patient before the first treatment; "
    "patient and prescriber both sign the Patient Enrollment Form (spravatorems.com outpatient-hcs, patients), VERIFIED"
)
SRC_PMF = (
    "clinical.md §1a 'Patient Monitoring Form (PMF)': complete after every outpatient session, submit within 7 days "
    "(manualspro PMF instructions; jnjmedicalconnect), VERIFIED; still current per Osmind (June 2026), VERIFIED "
    "(secondary)"
)
SRC_PMF_PATIENT = "clinical.md §1a 'PMF fields' › Patient (manualspro transcription of the 11/2021 form), VERIFIED"
SRC_PMF_MEDS = "clinical.md §1a 'PMF fields' › Concomitant meds (may cause sedation or BP change), VERIFIED"
SRC_PMF_OPIOIDS = "clinical.md §1a 'PMF fields' › Concomitant meds: 'the video version also mentions opioids', VERIFIED"
SRC_PMF_HCP = "clinical.md §1a 'PMF fields' › HCP conducting monitoring, VERIFIED"
SRC_PMF_SETTING = "clinical.md §1a 'PMF fields' › Healthcare setting, VERIFIED"
SRC_PMF_SESSION = "clinical.md §1a 'PMF fields' › Session, VERIFIED"
SRC_PMF_TOTAL_TIME = (
    "clinical.md §1a 'PMF fields' › Session: total time in minutes, first device → end of monitoring, must be ≥120; "
    "'Observation' (≥2 h, boxed warning) and ehrsource 'start/end timestamps' hard stop (§2a), VERIFIED"
)
SRC_PMF_EVALUATION = "clinical.md §1a 'PMF fields' › REMS evaluation question, VERIFIED"
SRC_PMF_VITALS = "clinical.md §1a 'PMF fields' › Vital signs, VERIFIED"
SRC_PMF_BP = (
    "clinical.md §1a 'PMF fields' › BP (mmHg) and §2a ehrsource hard stop 'pre/40-min/pre-discharge BP', VERIFIED"
)
SRC_PMF_AES = (
    "clinical.md §1a 'PMF fields' › AEs (sedation / dissociation / respiratory depression and whether resolved; "
    "serious AE reporting), VERIFIED"
)
SRC_PMF_PULSE_OX = (
    "clinical.md §2a Osmind Spravato Treatment Note (maps 1:1 onto the PMF: pulse-ox checks) and §1a "
    "'Respiratory monitoring' (pulse oximetry at every session), VERIFIED"
)
SRC_DOSE_STEPS = "clinical.md §1a 'Dose steps': 28 mg per device; 56 mg = 2 devices, 84 mg = 3 devices, VERIFIED"

_T = TypeVar("_T")

SUBMISSION_WINDOW = timedelta(days=7)  # SRC_PMF

Sex = Literal["M", "F", "Other"]
DoseAdministered = Literal["56 mg", "84 mg", "Other"]
FormStatus = Literal["submitted", "due", "overdue"]

MG_PER_DEVICE = 28  # SRC_DOSE_STEPS
MIN_TOTAL_TIME_MINUTES = 120  # SRC_PMF_TOTAL_TIME


class EnrollmentRequiredError(ClinicError):
    """An outpatient esketamine session needs a signed REMS Patient Enrollment Form dated on or before it."""


@dataclass(frozen=True)
class RemsEnrollment:
    """A patient's Spravato REMS Patient Enrollment Form (:data:`SRC_ENROLMENT`)."""

    patient_id: str
    enrolled_on: date
    patient_signed: bool
    prescriber_signed: bool


def require_enrollment(enrollment: RemsEnrollment | None, patient_id: str, session_date: date) -> RemsEnrollment:
    """Return ``enrollment`` if ``patient_id`` may be treated on ``session_date``; raise otherwise (SRC_ENROLMENT)."""
    if enrollment is None:
        raise EnrollmentRequiredError(f"patient {patient_id!r} is not enrolled in the Spravato REMS")
    if enrollment.patient_id != patient_id:
        raise EnrollmentRequiredError(f"enrolment is for patient {enrollment.patient_id!r}, not {patient_id!r}")
    if not (enrollment.patient_signed and enrollment.prescriber_signed):
        raise EnrollmentRequiredError("the Patient Enrollment Form must be signed by both patient and prescriber")
    if enrollment.enrolled_on > session_date:
        raise EnrollmentRequiredError(
            f"patient {patient_id!r} enrolled on {enrollment.enrolled_on}, after the session on {session_date}"
        )
    return enrollment


@dataclass(frozen=True)
class BloodPressure:
    """A blood pressure reading in mmHg."""

    systolic: int
    diastolic: int

    def __post_init__(self) -> None:
        if not 0 < self.diastolic < self.systolic:
            raise InvalidAnswerError(
                "blood_pressure", f"{self.systolic}/{self.diastolic} is implausible", "0 < dia < sys"
            )


@dataclass(frozen=True)
class PatientDetails:
    """The form's patient identity (SRC_PMF_PATIENT); ``None`` or blank means not recorded."""

    first_name: str | None
    last_name: str | None
    birthdate: date | None
    sex: Sex | None
    middle_initial: str | None = None


@dataclass(frozen=True)
class MonitoringHcp:
    """The healthcare provider conducting monitoring (SRC_PMF_HCP)."""

    first_name: str | None
    last_name: str | None
    telephone: str | None
    email: str | None


@dataclass(frozen=True)
class HealthcareSetting:
    """The outpatient healthcare setting (SRC_PMF_SETTING)."""

    name: str | None
    address_1: str | None
    city: str | None
    state: str | None
    zip: str | None
    address_2: str | None = None


@dataclass(frozen=True)
class SessionFacts:
    """What the clinic recorded for one outpatient esketamine session; ``None`` means not recorded."""

    patient_id: str
    patient: PatientDetails
    hcp: MonitoringHcp
    setting: HealthcareSetting
    first_treatment: bool
    treatment_date: date | None
    dose_mg: int | None
    devices: int | None
    total_time_minutes: int | None
    bp_before_administration: BloodPressure | None
    bp_40_min_after: BloodPressure | None
    bp_before_end_of_session: BloodPressure | None
    benzodiazepines: bool | None
    non_benzodiazepine_sedative_hypnotics: bool | None
    psychostimulants: bool | None
    maois: bool | None
    sedation: bool | None
    dissociation: bool | None
    respiratory_depression: bool | None
    sedation_resolved: bool | None = None
    dissociation_resolved: bool | None = None
    respiratory_depression_resolved: bool | None = None
    opioids: bool | None = None
    lot_number: str | None = None
    ready_to_leave_minutes: int | None = None
    vitals_acceptable_before_administration: bool | None = None
    vitals_acceptable_before_end_of_session: bool | None = None
    pulse_oximetry_checked: bool | None = None
    serious_adverse_events: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientMonitoringForm:
    """Every field of the Spravato REMS Patient Monitoring Form (sources: :data:`FIELD_SOURCES`)."""

    patient_first_name: str
    patient_middle_initial: str | None
    patient_last_name: str
    patient_birthdate: date
    patient_sex: Sex
    first_treatment: bool
    already_enrolled: bool | None  # asked only if first_treatment
    benzodiazepines: bool
    non_benzodiazepine_sedative_hypnotics: bool
    psychostimulants: bool
    maois: bool
    opioids: bool | None
    hcp_first_name: str
    hcp_last_name: str
    hcp_telephone: str
    hcp_email: str
    setting_name: str
    setting_address_1: str
    setting_address_2: str | None
    setting_city: str
    setting_state: str
    setting_zip: str
    treatment_date: date
    dose_administered: DoseAdministered
    dose_mg: int
    lot_number: str | None
    total_time_minutes: int
    ready_to_leave_minutes: int | None
    vitals_acceptable_before_administration: bool | None
    vitals_acceptable_before_end_of_session: bool | None
    bp_before_administration: BloodPressure
    bp_40_min_after: BloodPressure
    bp_before_end_of_session: BloodPressure
    sedation: bool
    sedation_resolved: bool | None
    dissociation: bool
    dissociation_resolved: bool | None
    respiratory_depression: bool
    respiratory_depression_resolved: bool | None
    serious_adverse_events: tuple[str, ...]
    pulse_oximetry_checked: bool | None


FIELD_SOURCES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "patient_first_name",
            "patient_middle_initial",
            "patient_last_name",
            "patient_birthdate",
            "patient_sex",
            "first_treatment",
            "already_enrolled",
        ),
        SRC_PMF_PATIENT,
    ),
    **dict.fromkeys(
        ("benzodiazepines", "non_benzodiazepine_sedative_hypnotics", "psychostimulants", "maois"), SRC_PMF_MEDS
    ),
    "opioids": SRC_PMF_OPIOIDS,
    **dict.fromkeys(("hcp_first_name", "hcp_last_name", "hcp_telephone", "hcp_email"), SRC_PMF_HCP),
    **dict.fromkeys(
        (
            "setting_name",
            "setting_address_1",
            "setting_address_2",
            "setting_city",
            "setting_state",
            "setting_zip",
        ),
        SRC_PMF_SETTING,
    ),
    **dict.fromkeys(("treatment_date", "dose_administered", "lot_number"), SRC_PMF_SESSION),
    "dose_mg": f"{SRC_PMF_SESSION} (the amount behind '56 mg / 84 mg / Other'); {SRC_DOSE_STEPS}",
    "total_time_minutes": SRC_PMF_TOTAL_TIME,
    "ready_to_leave_minutes": SRC_PMF_EVALUATION,
    **dict.fromkeys(
        ("vitals_acceptable_before_administration", "vitals_acceptable_before_end_of_session"), SRC_PMF_VITALS
    ),
    **dict.fromkeys(("bp_before_administration", "bp_40_min_after", "bp_before_end_of_session"), SRC_PMF_BP),
    **dict.fromkeys(
        (
            "sedation",
            "sedation_resolved",
            "dissociation",
            "dissociation_resolved",
            "respiratory_depression",
            "respiratory_depression_resolved",
            "serious_adverse_events",
        ),
        SRC_PMF_AES,
    ),
    "pulse_oximetry_checked": SRC_PMF_PULSE_OX,
}

# Starred (*) on the form (SRC_PMF_*), plus total time (must be ≥120) and the three BP readings (ehrsource hard stop).
REQUIRED_FIELDS: frozenset[str] = frozenset(
    {
        "patient_first_name",
        "patient_last_name",
        "patient_birthdate",
        "patient_sex",
        "benzodiazepines",
        "non_benzodiazepine_sedative_hypnotics",
        "psychostimulants",
        "maois",
        "hcp_first_name",
        "hcp_last_name",
        "hcp_telephone",
        "hcp_email",
        "setting_name",
        "setting_address_1",
        "setting_city",
        "setting_state",
        "setting_zip",
        "treatment_date",
        "dose_administered",
        "total_time_minutes",
        "bp_before_administration",
        "bp_40_min_after",
        "bp_before_end_of_session",
        "sedation",
        "dissociation",
        "respiratory_depression",
    }
)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _required(name: str, value: _T | None) -> _T:
    if value is None:
        raise InvalidAnswerError(name, "required field of the Patient Monitoring Form is missing")
    return value


def _dose_administered(dose_mg: int, devices: int) -> DoseAdministered:
    if dose_mg <= 0 or dose_mg % MG_PER_DEVICE:
        raise InvalidAnswerError("dose_mg", f"{dose_mg} mg is not a whole number of devices", "multiples of 28 mg")
    if devices * MG_PER_DEVICE != dose_mg:
        raise InvalidAnswerError(
            "devices", f"{devices} devices do not give {dose_mg} mg", f"{dose_mg // MG_PER_DEVICE} devices"
        )
    if dose_mg == 56:
        return "56 mg"
    if dose_mg == 84:
        return "84 mg"
    return "Other"


def build_monitoring_form(facts: SessionFacts, enrollment: RemsEnrollment | None) -> PatientMonitoringForm:
    """Fill the PMF from ``facts``; raise :class:`InvalidAnswerError` naming the first missing or invalid field.

    The patient must be enrolled on or before the session (SRC_ENROLMENT).
    """
    p, h, s = facts.patient, facts.hcp, facts.setting
    dose_mg = _required("dose_mg", facts.dose_mg)
    devices = _required("devices", facts.devices)
    treatment_date = _required("treatment_date", facts.treatment_date)
    total_time_minutes = _required("total_time_minutes", facts.total_time_minutes)
    for name, flag, resolved in (
        ("sedation", facts.sedation, facts.sedation_resolved),
        ("dissociation", facts.dissociation, facts.dissociation_resolved),
        ("respiratory_depression", facts.respiratory_depression, facts.respiratory_depression_resolved),
    ):
        if flag and resolved is None:
            raise InvalidAnswerError(f"{name}_resolved", f"{name} occurred: record whether it resolved", "Y/N")
    values: dict[str, object] = {
        "patient_first_name": p.first_name,
        "patient_middle_initial": p.middle_initial,
        "patient_last_name": p.last_name,
        "patient_birthdate": p.birthdate,
        "patient_sex": p.sex,
        "first_treatment": facts.first_treatment,
        "already_enrolled": None,
        "benzodiazepines": facts.benzodiazepines,
        "non_benzodiazepine_sedative_hypnotics": facts.non_benzodiazepine_sedative_hypnotics,
        "psychostimulants": facts.psychostimulants,
        "maois": facts.maois,
        "opioids": facts.opioids,
        "hcp_first_name": h.first_name,
        "hcp_last_name": h.last_name,
        "hcp_telephone": h.telephone,
        "hcp_email": h.email,
        "setting_name": s.name,
        "setting_address_1": s.address_1,
        "setting_address_2": s.address_2,
        "setting_city": s.city,
        "setting_state": s.state,
        "setting_zip": s.zip,
        "treatment_date": facts.treatment_date,
        "dose_administered": _dose_administered(dose_mg, devices),
        "dose_mg": facts.dose_mg,
        "lot_number": facts.lot_number,
        "total_time_minutes": facts.total_time_minutes,
        "ready_to_leave_minutes": facts.ready_to_leave_minutes,
        "vitals_acceptable_before_administration": facts.vitals_acceptable_before_administration,
        "vitals_acceptable_before_end_of_session": facts.vitals_acceptable_before_end_of_session,
        "bp_before_administration": facts.bp_before_administration,
        "bp_40_min_after": facts.bp_40_min_after,
        "bp_before_end_of_session": facts.bp_before_end_of_session,
        "sedation": facts.sedation,
        "sedation_resolved": facts.sedation_resolved if facts.sedation else None,
        "dissociation": facts.dissociation,
        "dissociation_resolved": facts.dissociation_resolved if facts.dissociation else None,
        "respiratory_depression": facts.respiratory_depression,
        "respiratory_depression_resolved": facts.respiratory_depression_resolved
        if facts.respiratory_depression
        else None,
        "serious_adverse_events": facts.serious_adverse_events,
        "pulse_oximetry_checked": facts.pulse_oximetry_checked,
    }
    for field in dataclasses.fields(PatientMonitoringForm):
        if field.name in REQUIRED_FIELDS and _missing(values[field.name]):
            raise InvalidAnswerError(field.name, "required field of the Patient Monitoring Form is missing")
    if total_time_minutes < MIN_TOTAL_TIME_MINUTES:
        raise InvalidAnswerError(
            "total_time_minutes", f"{total_time_minutes} min is under the 2-hour minimum", ">= 120"
        )
    if facts.ready_to_leave_minutes is not None and facts.ready_to_leave_minutes < 0:
        raise InvalidAnswerError("ready_to_leave_minutes", "minutes from the start cannot be negative", ">= 0")
    require_enrollment(enrollment, facts.patient_id, treatment_date)
    if facts.first_treatment:
        values["already_enrolled"] = True
    return PatientMonitoringForm(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TrackedForm:
    """A PMF's submission state as of a date (SRC_PMF)."""

    patient_id: str
    treatment_date: date
    due_date: date
    status: FormStatus
    submitted_on: date | None

    @property
    def late(self) -> bool:
        """Submitted after the 7-day window."""
        return self.submitted_on is not None and self.submitted_on > self.due_date


def due_date(treatment_date: date) -> date:
    """The last day to submit the PMF of a session: 7 days after it (SRC_PMF)."""
    return treatment_date + SUBMISSION_WINDOW


class RemsTracker:
    """One PMF per outpatient session, keyed by ``(patient_id, treatment_date)``; 7-day submission status."""

    def __init__(self) -> None:
        self._forms: dict[tuple[str, date], PatientMonitoringForm] = {}
        self._submitted: dict[tuple[str, date], date] = {}

    def add(self, patient_id: str, form: PatientMonitoringForm) -> None:
        """Track ``form``; a second form for the same patient and day is refused."""
        key = (patient_id, form.treatment_date)
        if key in self._forms:
            raise InvalidAnswerError("form", f"a PMF for {patient_id!r} on {form.treatment_date} is already tracked")
        self._forms[key] = form

    def mark_submitted(self, patient_id: str, treatment_date: date, submitted_on: date) -> None:
        """Record the submission (online or fax) of a tracked form."""
        key = (patient_id, treatment_date)
        if key not in self._forms:
            raise InvalidAnswerError("treatment_date", f"no PMF tracked for {patient_id!r} on {treatment_date}")
        if submitted_on < treatment_date:
            raise InvalidAnswerError("submitted_on", f"{submitted_on} is before the session", f">= {treatment_date}")
        self._submitted[key] = submitted_on

    def statuses(self, as_of: date) -> list[TrackedForm]:
        """Every tracked form, oldest session first: submitted (on or before ``as_of``), due, or overdue."""
        out = []
        for patient_id, treatment_date in sorted(self._forms):
            submitted = self._submitted.get((patient_id, treatment_date))
            if submitted is not None and submitted > as_of:
                submitted = None
            due = due_date(treatment_date)
            status: FormStatus = "submitted" if submitted else ("overdue" if as_of > due else "due")
            out.append(TrackedForm(patient_id, treatment_date, due, status, submitted))
        return out

    def overdue(self, as_of: date) -> list[TrackedForm]:
        """Forms not submitted within 7 days of their session."""
        return [t for t in self.statuses(as_of) if t.status == "overdue"]
