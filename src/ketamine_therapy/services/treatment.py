"""Use cases of the session runner: schedule, check in, BP decision, dose, vitals, scores, discharge, stop.

Each step loads the session, applies the clinic rule (``clinic.sessions``), and stores the result only if
nobody changed the session since the version the caller read (optimistic locking): two nurses at one chair
cannot overwrite each other silently. Dose limits come from the clinic's settings; a dose outside them needs
an override reason from a role allowed to override, and the override is recorded on the session and audited.
Discharging an esketamine session builds its REMS Patient Monitoring Form in the same transaction.

Every step's time must be plausible against the clock port (not in the future beyond a small skew, not before
1900). The patient's other sessions are checked at check-in and dosing: never two open at once, and a session far
from its scheduled time or a dose too soon after another of the same drug and route needs a prescriber's
override. The dose is computed from the latest weight not in the future; an old one must be acknowledged. A
discharge is checked against the recorded vitals; a contradiction needs an override with a reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..clinic import sessions as rules
from ..clinic.exceptions import InvalidAnswerError
from ..clinic.patients import Patient
from ..clinic.quantities import check_moment
from ..clinic.rems import (
    BloodPressure as RemsBloodPressure,
)
from ..clinic.rems import (
    PatientDetails,
    PatientMonitoringForm,
    SessionFacts,
    build_monitoring_form,
    require_enrollment,
)
from ..clinic.sessions import (
    DischargeAssessment,
    Dose,
    EsketamineDose,
    ImDose,
    IvDose,
    Override,
    PreChecks,
    Session,
    SessionKind,
    SessionState,
    Severity,
    Vitals,
    WarningAck,
)
from ..clinic.settings import ClinicSettings
from .audit import audit, audit_list
from .authorization import Actor, Permission
from .clock import Clock, utc_now
from .ports import StaleVersionError, UnitOfWork
from .ports.treatment import RecordVersion, RemsFormRecord, SessionRecord

After = Callable[[UnitOfWork, SessionRecord, ClinicSettings], None]
"""A side effect run inside a step's transaction, after the session is stored."""

BP_40_MIN_WINDOW = (timedelta(minutes=30), timedelta(minutes=50))
"""Which reading counts as the PMF's 'BP 40 minutes after administration': the one nearest 40 min in 30-50 min
(the form asks for the 40-min reading; the window is this project's tolerance for when it was taken)."""


@dataclass(frozen=True)
class DoseOrder:
    """What to give: ``mg_per_kg`` (IV, IM) or ``total_mg`` (esketamine); IV also ``duration_min``.

    ``weight_kg`` defaults to the patient's latest weight not in the future; one older than the clinic's limit
    needs ``acknowledge_weight``. ``override_reason`` is required for a dose outside the clinic's hard limits or a
    dose too soon after another, and only a role with the dose-override permission may give one.
    """

    mg_per_kg: float | None = None
    total_mg: int | None = None
    duration_min: float | None = None
    weight_kg: float | None = None
    override_reason: str | None = None
    acknowledge_weight: bool = False


@dataclass(frozen=True)
class RemsObservations:
    """What the nurse observed for the REMS form of an esketamine session (Y/N each; lot number optional)."""

    sedation: bool
    dissociation: bool
    respiratory_depression: bool
    lot_number: str | None = None


def schedule_session(
    uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID, kind: SessionKind, scheduled_at: datetime
) -> SessionRecord:
    """Schedule a single session outside a plan (a booster, say)."""
    actor.require(Permission.PLAN_WRITE)
    with uow:
        settings, _ = uow.settings.get()
        uow.patients.get(patient_id)
        session = rules.new_session(kind, scheduled_at, settings.min_monitoring(kind))
        record = SessionRecord(uuid.uuid4(), patient_id, session)
        uow.sessions.add(record, actor.username, "scheduled")
        audit(uow, actor, "create", "session", record.id, patient_id, kind.value)
        uow.commit()
    return replace(record, version=1)


def get_session(uow: UnitOfWork, actor: Actor, session_id: uuid.UUID) -> SessionRecord:
    """One session with everything recorded on it."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        record = uow.sessions.get(session_id)
        audit(uow, actor, "read", "session", session_id, record.patient_id)
        uow.commit()
    return record


def session_history(uow: UnitOfWork, actor: Actor, session_id: uuid.UUID) -> Sequence[RecordVersion]:
    """Every stored version of a session with who, when and why."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        record = uow.sessions.get(session_id)
        versions = uow.sessions.history(session_id)
        audit(uow, actor, "read", "session-history", session_id, record.patient_id)
        uow.commit()
    return versions


def sessions_for(uow: UnitOfWork, actor: Actor, patient_id: uuid.UUID) -> Sequence[SessionRecord]:
    """A patient's sessions in scheduled order."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        uow.patients.get(patient_id)
        records = uow.sessions.for_patient(patient_id)
        audit(uow, actor, "read", "session", patient_id=patient_id, detail=f"n={len(records)}")
        uow.commit()
    return records


def sessions_between(
    uow: UnitOfWork, actor: Actor, start: datetime, end: datetime
) -> list[tuple[SessionRecord, Patient]]:
    """Sessions scheduled in ``[start, end)`` with their patients (the day's list)."""
    actor.require(Permission.PATIENT_READ)
    with uow:
        records = uow.sessions.scheduled_between(start, end)
        out = [(r, uow.patients.get(r.patient_id)[0]) for r in records]
        audit_list(uow, actor, "session-list", (p.id for _, p in out), f"{start.isoformat()}..{end.isoformat()}")
        uow.commit()
    return out


def _step(
    uow: UnitOfWork,
    actor: Actor,
    session_id: uuid.UUID,
    expected_version: int,
    what: str,
    change: Callable[[SessionRecord, ClinicSettings, UnitOfWork], Session],
    after: After | None = None,
    *,
    at: datetime,
    clock: Clock,
) -> SessionRecord:
    actor.require(Permission.SESSION_RUN)
    check_moment("at", at, clock())
    with uow:
        settings, _ = uow.settings.get()
        record = uow.sessions.get(session_id)
        if record.version != expected_version:  # before the rule: a stale screen gets a conflict, not a rule error
            raise StaleVersionError(f"session {session_id} is at version {record.version}, not {expected_version}; "
                                    "someone else changed it: reload")  # fmt: skip
        updated = replace(record, session=change(record, settings, uow))
        what = _what(what, record.session, updated.session)
        version = uow.sessions.update(updated, expected_version, actor.username, what)
        audit(uow, actor, "update", "session", session_id, record.patient_id, what)
        if after is not None:
            after(uow, updated, settings)
        uow.commit()
    return replace(updated, version=version)


def _file_rems_form(actor: Actor, seen: RemsObservations) -> After:
    """After an esketamine discharge: build and store its Patient Monitoring Form in the same transaction."""

    def after(uow: UnitOfWork, record: SessionRecord, settings: ClinicSettings) -> None:
        form = _monitoring_form(uow, record, settings, seen)
        stored = RemsFormRecord(uuid.uuid4(), record.id, record.patient_id, form)
        uow.rems.add_form(stored, actor.username)
        audit(uow, actor, "create", "rems-form", stored.id, record.patient_id, f"session {record.id}")

    return after


def _others(uow: UnitOfWork, record: SessionRecord) -> list[Session]:
    """The patient's other sessions (for the concurrency and interval rules)."""
    return [r.session for r in uow.sessions.for_patient(record.patient_id) if r.id != record.id]


def _override(actor: Actor, reason: str | None, at: datetime) -> Override | None:
    """A prescriber's override (the dose-override permission), or ``None`` without a reason."""
    if reason is None:
        return None
    actor.require(Permission.DOSE_OVERRIDE)
    return Override(reason, actor.username, at)


def _what(step: str, before: Session, after: Session) -> str:
    """The audit text of a step, with the warnings overridden or acknowledged at it."""
    new = after.acknowledged[len(before.acknowledged) :]
    return step + "".join(f"; override by {a.by} ({a.reason}): {' | '.join(a.warnings)}" for a in new)


def check_in_session(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, prechecks: PreChecks, at: datetime,
    *, override_reason: str | None = None, clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Record the pre-checks under the clinic's policy and check in; esketamine needs REMS enrolment first.

    No other session of the patient may be open; a check-in far from the scheduled time needs a prescriber's
    ``override_reason``, recorded on the session and in the audit log.
    """
    override = _override(actor, override_reason, at)

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        kind = record.session.kind
        if kind is SessionKind.ESKETAMINE:
            enrollment = uow.rems.enrollment(record.patient_id)
            require_enrollment(enrollment, str(record.patient_id), settings.local_date(at))
        return rules.check_in(record.session, prechecks, settings.policy(kind), at, actor.username,
                              others=_others(uow, record), timing=settings.timing(kind), override=override)  # fmt: skip

    return _step(uow, actor, session_id, expected_version, "checked in", change, at=at, clock=clock)


def decide_bp_session(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, proceed: bool, reason: str,
    at: datetime, *, clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Document the decision on a pre-dose BP above the gate: proceed or delay, and why."""

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        return rules.decide_bp(record.session, proceed, reason, actor.username, at)

    what = f"BP decision: {'proceed' if proceed else 'delay'} ({reason})"
    return _step(uow, actor, session_id, expected_version, what, change, at=at, clock=clock)


def _dose(kind: SessionKind, order: DoseOrder, patient: Patient, settings: ClinicSettings, at: datetime) -> Dose:
    if kind is SessionKind.ESKETAMINE:
        if order.total_mg is None:
            raise InvalidAnswerError("total_mg", "missing", "56 or 84 mg (whole 28-mg devices)")
        return EsketamineDose(order.total_mg)
    weight = order.weight_kg
    if weight is None:
        recorded = patient.dosing_weight(settings.local_date(at), settings.weight_max_age_days)
        if recorded is None:
            raise InvalidAnswerError("weight_kg", "no weight recorded for the patient (none dated today or earlier)",
                                     "the patient's weight in kg")  # fmt: skip
        if recorded.stale and not order.acknowledge_weight:
            raise InvalidAnswerError(
                "acknowledge_weight", f"the latest weight, {recorded.weight_kg:g} kg, was measured "
                f"{recorded.measured_on} ({recorded.age_days} days ago; clinic limit {settings.weight_max_age_days})",
                "weigh the patient and enter the weight, or acknowledge the old weight",
            )  # fmt: skip
        weight = recorded.weight_kg
    if order.mg_per_kg is None:
        raise InvalidAnswerError("mg_per_kg", "missing", "the weight-based dose in mg/kg")
    if kind is SessionKind.IM_KETAMINE:
        return ImDose(weight, order.mg_per_kg)
    if order.duration_min is None:
        raise InvalidAnswerError("duration_min", "missing", "infusion time in minutes, e.g. 40")
    return IvDose(weight, order.mg_per_kg, timedelta(minutes=order.duration_min))


def start_dosing_session(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, order: DoseOrder, at: datetime,
    *, clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Record the dose within the clinic's hard limits (or with an override) and start dosing.

    No dose passes the absolute ceiling of its drug and route; another open session of the patient refuses it; a
    dose too soon after another of the same drug and route needs the prescriber's override as well.
    """
    override = _override(actor, order.override_reason, at)

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        kind = record.session.kind
        patient = uow.patients.get(record.patient_id)[0]
        dose = _dose(kind, order, patient, settings, at)
        dosed = rules.start_dosing(record.session, dose, at, actor.username, settings.limits(kind), override,
                                   others=_others(uow, record), timing=settings.timing(kind))  # fmt: skip
        if order.weight_kg is None and order.acknowledge_weight:
            recorded = patient.dosing_weight(settings.local_date(at), settings.weight_max_age_days)
            if recorded is not None and recorded.stale:
                note = (
                    f"dosing weight {recorded.weight_kg:g} kg measured {recorded.measured_on} ({recorded.age_days} d)"
                )
                ack = WarningAck((note,), "old weight acknowledged", actor.username, at)
                dosed = replace(dosed, acknowledged=(*dosed.acknowledged, ack))
        return dosed

    what = "dosing started" + (f" with override: {order.override_reason}" if override else "")
    what += "; old weight acknowledged" if order.acknowledge_weight and order.weight_kg is None else ""
    return _step(uow, actor, session_id, expected_version, what, change, at=at, clock=clock)


def begin_monitoring(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, at: datetime, *,
    clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Dosing is over: monitor until discharge."""

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        return rules.transition(record.session, SessionState.MONITORING, at, actor.username)

    return _step(uow, actor, session_id, expected_version, "monitoring", change, at=at, clock=clock)


def add_vitals(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, at: datetime, *,
    systolic: int | None = None, diastolic: int | None = None, heart_rate: int | None = None,
    spo2: int | None = None, respiratory_rate: int | None = None, clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Add one timed set of vitals (BP needs both numbers); values are checked for plausibility."""
    if (systolic is None) != (diastolic is None):
        raise InvalidAnswerError("bp", "give both systolic and diastolic", "e.g. 128/82 mmHg")
    bp = None if systolic is None or diastolic is None else rules.BloodPressure(systolic, diastolic)
    vitals = Vitals(at, actor.username, bp, heart_rate, spo2, respiratory_rate)

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        return rules.record_vitals(record.session, vitals)

    return _step(uow, actor, session_id, expected_version, "vitals", change, at=at, clock=clock)


def add_cadss6(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, total: int, at: datetime, *,
    clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Add a CADSS-6 dissociation total."""

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        return rules.record_cadss6(record.session, total, at, actor.username)

    return _step(uow, actor, session_id, expected_version, "CADSS-6", change, at=at, clock=clock)


def add_moaas(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, score: int, at: datetime, *,
    clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Add a MOAA/S sedation score."""

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        return rules.record_moaas(record.session, score, at, actor.username)

    return _step(uow, actor, session_id, expected_version, "MOAA/S", change, at=at, clock=clock)


def add_adverse_event(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, description: str,
    severity: Severity, at: datetime, *, clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Add an adverse event."""

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        return rules.record_adverse_event(record.session, description, severity, at, actor.username)

    what = f"adverse event ({severity.value})"
    return _step(uow, actor, session_id, expected_version, what, change, at=at, clock=clock)


def discharge_session(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, assessment: DischargeAssessment,
    at: datetime, rems: RemsObservations | None = None, *, override_reason: str | None = None,
    clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Discharge when the rules hold; an esketamine session also files its REMS form (``rems`` required).

    The attestation is checked against the recorded vitals and the clinic's discharge ranges: a contradiction
    needs ``override_reason`` (recorded on the session and audited).
    """
    override = None if override_reason is None else Override(override_reason, actor.username, at)

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        if record.session.kind is SessionKind.ESKETAMINE and rems is None:
            raise InvalidAnswerError("rems", "missing for an esketamine discharge", "sedation/dissociation Y/N")
        return rules.discharge(record.session, assessment, at, actor.username, ranges=settings.discharge,
                               override=override)  # fmt: skip

    after = _file_rems_form(actor, rems) if rems is not None else None
    return _step(uow, actor, session_id, expected_version, "discharged", change, after, at=at, clock=clock)


def stop_session(
    uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, expected_version: int, reason: str, at: datetime, *,
    clock: Clock = utc_now,
) -> SessionRecord:  # fmt: skip
    """Stop a session early, with a reason."""

    def change(record: SessionRecord, settings: ClinicSettings, uow: UnitOfWork) -> Session:
        return rules.stop(record.session, reason, at, actor.username)

    return _step(uow, actor, session_id, expected_version, f"stopped: {reason}", change, at=at, clock=clock)


def _bp(value: rules.BloodPressure | None) -> RemsBloodPressure | None:
    return None if value is None else RemsBloodPressure(value.systolic, value.diastolic)


def _monitoring_form(
    uow: UnitOfWork, record: SessionRecord, settings: ClinicSettings, seen: RemsObservations
) -> PatientMonitoringForm:
    """The PMF of a discharged esketamine session, from the session, the patient, screening and settings."""
    s = record.session
    patient, _ = uow.patients.get(record.patient_id)
    started = s.entered_at(SessionState.DOSING)
    ended = s.entered_at(SessionState.DISCHARGED)
    assert started is not None
    assert ended is not None
    assert isinstance(s.dose, EsketamineDose)
    readings = [(v.at, v.bp) for v in s.vitals if v.bp is not None and v.at >= started]
    low, high = BP_40_MIN_WINDOW
    near_40 = [(abs(at - started - timedelta(minutes=40)), bp) for at, bp in readings if low <= at - started <= high]
    screenings = uow.screenings.for_patient(record.patient_id)
    if not screenings:
        raise InvalidAnswerError(
            "screening",
            "none recorded: the REMS form needs the patient's medications",
            "a screening listing benzodiazepines, sedative-hypnotics, stimulants, MAOIs",
        )
    meds = screenings[-1].input.medications
    earlier = [r for r in uow.sessions.for_patient(record.patient_id)
               if r.id != record.id and r.session.kind is SessionKind.ESKETAMINE
               and r.session.state is SessionState.DISCHARGED]  # fmt: skip
    a = s.discharge_assessment
    sex = {"female": "F", "male": "M", "other": "Other"}.get(patient.sex)
    minutes = int((ended - started) / timedelta(minutes=1))
    facts = SessionFacts(
        patient_id=str(record.patient_id),
        patient=PatientDetails(patient.given_name, patient.family_name, patient.date_of_birth, sex),  # type: ignore[arg-type]
        hcp=settings.rems_hcp,
        setting=settings.rems_setting,
        first_treatment=not earlier,
        treatment_date=settings.local_date(started),
        dose_mg=s.dose.total_mg,
        devices=s.dose.devices,
        total_time_minutes=minutes,
        bp_before_administration=_bp(s.prechecks.bp if s.prechecks else None),
        bp_40_min_after=_bp(min(near_40, key=lambda x: x[0])[1] if near_40 else None),
        bp_before_end_of_session=_bp(readings[-1][1] if readings else None),
        benzodiazepines="benzodiazepine" in meds,
        non_benzodiazepine_sedative_hypnotics="sedative-hypnotic" in meds,
        psychostimulants="psychostimulant" in meds,
        maois="maoi" in meds,
        sedation=seen.sedation,
        dissociation=seen.dissociation,
        respiratory_depression=seen.respiratory_depression,
        sedation_resolved=None if a is None else a.sedation_resolved,
        dissociation_resolved=None if a is None else a.dissociation_resolved,
        respiratory_depression_resolved=None if a is None else a.respiratory_depression_resolved,
        lot_number=seen.lot_number,
        ready_to_leave_minutes=minutes,
        pulse_oximetry_checked=any(v.spo2 is not None and v.at >= started for v in s.vitals),
        serious_adverse_events=tuple(e.description for e in s.adverse_events if e.severity is Severity.SEVERE),
    )
    return build_monitoring_form(facts, uow.rems.enrollment(record.patient_id))
