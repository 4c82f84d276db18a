"""Whole courses walked through the services layer on a real database (SQLite file and PostgreSQL).

IV: screen -> plan (6 infusions on the clinic's calendar) -> 6 sessions with pre-checks, a BP-gate decision, dose,
timed vitals and discharge -> MADRS -> response -> booster recommendation -> cost.
Spravato: screen -> REMS enrolment -> plan -> 6 sessions with vitals -> MADRS -> response -> booster -> a Patient
Monitoring Form per session with the 7-day tracker -> cost with insurance.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, text

from ketamine_therapy.clinic.costs import Coverage
from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.patients import Patient, WeightRecord
from ketamine_therapy.clinic.rems import EnrollmentRequiredError
from ketamine_therapy.clinic.screening import AntidepressantTrial, ScreeningInput
from ketamine_therapy.clinic.sessions import (
    BloodPressure,
    DischargeAssessment,
    OverrideRequiredError,
    PreChecks,
    PregnancyTest,
    SessionState,
    UnmetCriteriaError,
)
from ketamine_therapy.services import treatment
from ketamine_therapy.services.audit import audit_entries
from ketamine_therapy.services.authorization import Actor, PermissionDeniedError, Role
from ketamine_therapy.services.billing import course_cost_of, plan_estimate, set_coverage
from ketamine_therapy.services.clinic_settings import put_settings
from ketamine_therapy.services.demo_clinic import demo_settings
from ketamine_therapy.services.outcomes import booster_advice, course_of
from ketamine_therapy.services.patients import record_scale as record_scale_now
from ketamine_therapy.services.patients import register_patient
from ketamine_therapy.services.plans import create_plan
from ketamine_therapy.services.ports import ConflictError
from ketamine_therapy.services.rems_forms import enroll_patient, form_statuses, mark_submitted
from ketamine_therapy.services.screenings import screen_patient
from ketamine_therapy.storage.db import make_session_factory
from ketamine_therapy.storage.unit_of_work import SqlUnitOfWork


def _later() -> datetime:
    """The clock of the walkthrough: after its course (its dates are fixed), so none of them is in the future."""
    return datetime(2027, 6, 1, tzinfo=UTC)


_STEPS = ("check_in_session", "decide_bp_session", "start_dosing_session", "begin_monitoring", "add_vitals",
          "add_cadss6", "add_moaas", "add_adverse_event", "discharge_session", "stop_session")  # fmt: skip
runner = SimpleNamespace(**{**vars(treatment), **{n: partial(getattr(treatment, n), clock=_later) for n in _STEPS}})
record_scale = partial(record_scale_now, clock=_later)

ADMIN = Actor("admin", Role.ADMIN, "127.0.0.1")
DR = Actor("dr.lee", Role.PRESCRIBER, "127.0.0.1")
NURSE = Actor("nurse.kim", Role.NURSE, "127.0.0.1")
STABLE = DischargeAssessment(True, True, True, True, True)
TRIALS = (
    AntidepressantTrial("sertraline", "ssri", True, 8, True, "none", True),
    AntidepressantTrial("venlafaxine", "snri", True, 10, True, "partial", True),
)


def madrs(total: int) -> list[int]:
    """Ten MADRS items (0-6) that add up to ``total``."""
    return [max(0, min(6, total - 6 * i)) for i in range(10)]


@pytest.fixture
def new_uow(engine: Engine):  # type: ignore[no-untyped-def]
    factory = make_session_factory(engine)
    uow = lambda: SqlUnitOfWork(factory)  # noqa: E731
    put_settings(uow(), ADMIN, demo_settings(), None, "clinic opened")
    return uow


def run_iv_session(new_uow, record, start: datetime, bp: BloodPressure):  # type: ignore[no-untyped-def]
    checks = PreChecks(consent=True, ride_home=True, pregnancy_test=PregnancyTest.NOT_APPLICABLE, bp=bp)
    r = runner.check_in_session(new_uow(), NURSE, record.id, record.version, checks, start)
    if bp.above(BloodPressure(140, 90)):
        with pytest.raises(UnmetCriteriaError, match="needs a documented decision"):  # never a silent block...
            runner.start_dosing_session(new_uow(), NURSE, r.id, r.version, runner.DoseOrder(0.5, duration_min=40),
                                        start)  # fmt: skip
        r = runner.decide_bp_session(
            new_uow(),
            NURSE,
            r.id,
            r.version,
            True,  # ...but a documented decision
            "repeat 138/88 after 10 min rest; Dr Lee agrees",
            start + timedelta(minutes=5),
        )
    dose_at = start + timedelta(minutes=10)
    r = runner.start_dosing_session(new_uow(), NURSE, r.id, r.version, runner.DoseOrder(0.5, duration_min=40), dose_at)
    for minutes, sys_bp in ((15, 134), (30, 141), (40, 139), (60, 130)):  # the last one just before discharge
        r = runner.add_vitals(new_uow(), NURSE, r.id, r.version, dose_at + timedelta(minutes=minutes),
                              systolic=sys_bp, diastolic=86, heart_rate=78, spo2=98, respiratory_rate=14)  # fmt: skip
    r = runner.add_cadss6(new_uow(), NURSE, r.id, r.version, 6, dose_at + timedelta(minutes=40))
    r = runner.begin_monitoring(new_uow(), NURSE, r.id, r.version, dose_at + timedelta(minutes=40))
    with pytest.raises(UnmetCriteriaError, match="monitored"):  # the demo clinic monitors IV for 60 min
        runner.discharge_session(new_uow(), NURSE, r.id, r.version, STABLE, dose_at + timedelta(minutes=50))
    return runner.discharge_session(new_uow(), NURSE, r.id, r.version, STABLE, dose_at + timedelta(minutes=65))


def test_a_whole_iv_course_through_the_services(new_uow) -> None:  # type: ignore[no-untyped-def]
    patient = Patient("Sam", "Rivera", date(1979, 3, 2), "male")
    register_patient(new_uow(), DR, patient, WeightRecord(date(2026, 11, 20), 72.0))
    screening = screen_patient(new_uow(), DR, patient.id, ScreeningInput(18, "moderate", TRIALS, False, False, "iv"),
                               date(2026, 11, 20))  # fmt: skip
    assert screening.report.trd.is_trd
    assert screening.report.hard_stops == ()

    plan, sessions = create_plan(new_uow(), DR, patient.id, "iv-acute-series", date(2026, 11, 23))
    assert len(sessions) == 6
    assert all(1 <= (s.integration_day - s.day).days <= 3 for s in plan.plan.sessions)
    assert plan_estimate(new_uow(), NURSE, plan.id).total == Decimal(2700)  # 6 x $450 self-pay

    record_scale(new_uow(), NURSE, patient.id, "MADRS", madrs(32), date(2026, 11, 23))
    settings = demo_settings()
    totals = [18, 16, 13, 11, 9, 8]
    for record, planned, total in zip(sessions, plan.plan.sessions, totals, strict=True):
        bp = BloodPressure(150, 95) if planned.number == 3 else BloodPressure(128, 82)
        done = run_iv_session(new_uow, record, settings.appointment(planned.day), bp)
        assert done.session.state is SessionState.DISCHARGED
        assert done.session.dose is not None
        assert done.session.dose.total_mg == 36.0  # 0.5 mg/kg x 72 kg from the recorded weight
        if planned.number == 3:
            assert done.session.bp_decision is not None
            assert done.session.bp_decision.by == "nurse.kim"
        record_scale(new_uow(), NURSE, patient.id, "MADRS", madrs(total), planned.day + timedelta(days=1))

    course = course_of(new_uow(), DR, patient.id, "MADRS")
    assert (course.baseline[1], course.current[1], course.in_response, course.in_remission) == (32, 8, True, True)

    last = plan.plan.sessions[-1].day
    record_scale(new_uow(), NURSE, patient.id, "MADRS", madrs(20), last + timedelta(days=21))
    advice = booster_advice(new_uow(), DR, patient.id, "MADRS", last + timedelta(days=21))
    assert advice.recommend
    assert any("response" in reason for reason in advice.reasons)

    cost = course_cost_of(new_uow(), NURSE, patient.id)
    assert (cost.total, cost.patient_out_of_pocket) == (Decimal(2700), Decimal(2700))

    # everything above is in the audit log, with who and from where
    log = audit_entries(new_uow(), ADMIN, limit=500, patient_id=patient.id)
    assert {(e.username, e.action, e.entity) for e in log} >= {
        ("dr.lee", "create", "plan"), ("nurse.kim", "update", "session"), ("nurse.kim", "create", "scale"),
        ("dr.lee", "read", "course"),
    }  # fmt: skip
    assert all(e.source == "127.0.0.1" for e in log)


def test_a_whole_spravato_course_with_rems_forms(new_uow) -> None:  # type: ignore[no-untyped-def]
    """screen -> plan -> 6 sessions with vitals -> MADRS -> response -> booster -> REMS forms -> cost, in one test."""
    patient = Patient("Ada", "Okafor", date(1985, 6, 1), "female")
    register_patient(new_uow(), DR, patient, WeightRecord(date(2026, 11, 20), 64.0))
    on_benzodiazepine = ScreeningInput(24, "severe", TRIALS, True, False, "intranasal-esketamine",
                                       medications=frozenset({"benzodiazepine"}))  # fmt: skip
    screening = screen_patient(new_uow(), DR, patient.id, on_benzodiazepine, date(2026, 11, 20))
    assert screening.report.trd.is_trd
    assert [f.rule_id for f in screening.report.precautions]  # benzodiazepine: a documented precaution, not a stop
    set_coverage(new_uow(), DR, patient.id, Coverage("commercial", True, Decimal("0.2")), 0)
    plan, sessions = create_plan(new_uow(), DR, patient.id, "spravato-trd-84", date(2026, 11, 23))
    assert [s.dose_mg for s in plan.plan.sessions[:3]] == [56, 84, 84]  # 84 mg only after the 56 mg start
    settings = demo_settings()
    record_scale(new_uow(), NURSE, patient.id, "MADRS", madrs(34), date(2026, 11, 23))
    start = settings.appointment(plan.plan.sessions[0].day)
    checks = PreChecks(True, True, PregnancyTest.NEGATIVE, BloodPressure(124, 80), start - timedelta(hours=3),
                       start - timedelta(hours=1))  # fmt: skip
    with pytest.raises(EnrollmentRequiredError):  # REMS enrolment comes before the first session
        runner.check_in_session(new_uow(), NURSE, sessions[0].id, sessions[0].version, checks, start)
    enroll_patient(new_uow(), DR, patient.id, date(2026, 11, 20), patient_signed=True, prescriber_signed=True)

    totals = [27, 24, 20, 17, 15, 14]
    seen = runner.RemsObservations(sedation=True, dissociation=True, respiratory_depression=False, lot_number="L1")
    for index, (record, planned, total) in enumerate(zip(sessions, plan.plan.sessions, totals, strict=False)):
        start = settings.appointment(planned.day)
        checks = PreChecks(True, True, PregnancyTest.NEGATIVE, BloodPressure(124, 80), start - timedelta(hours=3),
                           start - timedelta(hours=1))  # fmt: skip
        r = runner.check_in_session(new_uow(), NURSE, record.id, record.version, checks, start)
        dose_at = start + timedelta(minutes=10)
        r = runner.start_dosing_session(
            new_uow(), NURSE, r.id, r.version, runner.DoseOrder(total_mg=int(planned.dose_mg or 0)), dose_at
        )
        for minutes, sys_bp in ((40, 138), (115, 128)):  # the last one within 15 min of discharge
            r = runner.add_vitals(new_uow(), NURSE, r.id, r.version, dose_at + timedelta(minutes=minutes),
                                  systolic=sys_bp, diastolic=84, heart_rate=80, spo2=97,
                                  respiratory_rate=14)  # fmt: skip
        r = runner.begin_monitoring(new_uow(), NURSE, r.id, r.version, dose_at + timedelta(minutes=15))
        if index == 0:
            with pytest.raises(UnmetCriteriaError, match="need >= 2:00:00"):  # the label's 2-hour observation
                runner.discharge_session(
                    new_uow(), NURSE, r.id, r.version, STABLE, dose_at + timedelta(minutes=90), seen
                )
            with pytest.raises(InvalidAnswerError, match="rems"):  # the REMS observations are required
                runner.discharge_session(new_uow(), NURSE, r.id, r.version, STABLE, dose_at + timedelta(minutes=125))
        runner.discharge_session(new_uow(), NURSE, r.id, r.version, STABLE, dose_at + timedelta(minutes=125), seen)
        record_scale(new_uow(), NURSE, patient.id, "MADRS", madrs(total), planned.day + timedelta(days=1))
        if index == 5:
            break

    course = course_of(new_uow(), DR, patient.id, "MADRS")
    assert (course.baseline[1], course.current[1], course.in_response, course.in_remission) == (34, 14, True, False)
    last = plan.plan.sessions[5].day
    record_scale(new_uow(), NURSE, patient.id, "MADRS", madrs(22), last + timedelta(days=10))
    advice = booster_advice(new_uow(), DR, patient.id, "MADRS", last + timedelta(days=10))
    assert advice.recommend  # 8 points above the best and response lost
    assert any("worsening" in reason for reason in advice.reasons)

    as_of = last + timedelta(days=3)
    rows = form_statuses(new_uow(), NURSE, as_of)
    assert len(rows) == 6  # one Patient Monitoring Form per session
    assert [r.status for r in rows] == ["overdue"] * 4 + ["due"] * 2  # none submitted; 7 days after each session
    form = rows[0].record.form
    assert (form.dose_administered, form.first_treatment, form.benzodiazepines) == ("56 mg", True, True)
    assert (form.bp_before_administration.systolic, form.bp_40_min_after.systolic) == (124, 138)
    assert form.total_time_minutes == 125
    assert [r.record.form.dose_administered for r in rows[1:]] == ["84 mg"] * 5
    assert not any(r.record.form.first_treatment for r in rows[1:])
    mark_submitted(new_uow(), NURSE, rows[0].record.id, rows[0].record.version, form.treatment_date + timedelta(days=2))
    with pytest.raises(ConflictError):  # a second tab with the old version cannot overwrite it
        mark_submitted(new_uow(), NURSE, rows[0].record.id, rows[0].record.version, form.treatment_date)
    assert form_statuses(new_uow(), NURSE, as_of)[0].status == "submitted"

    cost = course_cost_of(new_uow(), NURSE, patient.id)
    assert cost.total == Decimal(590 + 5 * 885)
    assert cost.patient_out_of_pocket == Decimal("1003.00")  # 20% coinsurance, prior auth approved
    assert {c.code for line in cost.lines for c in line.billing_codes} >= {"J0013"}


def test_dose_limits_and_overrides_are_enforced_in_the_services(new_uow) -> None:  # type: ignore[no-untyped-def]
    patient = Patient("Kai", "Novak", date(1990, 1, 1), "other")
    register_patient(new_uow(), DR, patient, WeightRecord(date(2026, 11, 20), 80.0))
    _, (record, *_) = create_plan(new_uow(), DR, patient.id, "iv-acute-series", date(2026, 11, 23))
    start = demo_settings().appointment(date(2026, 11, 23))
    checks = PreChecks(True, True, PregnancyTest.NOT_APPLICABLE, BloodPressure(120, 80))
    r = runner.check_in_session(new_uow(), NURSE, record.id, record.version, checks, start)
    with pytest.raises(OverrideRequiredError):  # 1.0 mg/kg is above the clinic's 0.75 mg/kg limit
        runner.start_dosing_session(new_uow(), NURSE, r.id, r.version, runner.DoseOrder(1.0, duration_min=40), start)
    with pytest.raises(PermissionDeniedError):  # a nurse may not override
        runner.start_dosing_session(
            new_uow(),
            NURSE,
            r.id,
            r.version,
            runner.DoseOrder(1.0, duration_min=40, override_reason="TRD, tolerated"),
            start,
        )
    done = runner.start_dosing_session(new_uow(), DR, r.id, r.version,
                                       runner.DoseOrder(1.0, duration_min=40, override_reason="tolerated 0.75 well"),
                                       start + timedelta(minutes=5))  # fmt: skip
    assert done.session.override is not None
    assert done.session.override.by == "dr.lee"
    with new_uow() as uow:
        history = uow.sessions.history(record.id)
    assert [(v.version, v.changed_by, v.reason) for v in history] == [
        (1, "dr.lee", f"scheduled by plan {done.plan_id}"),
        (2, "nurse.kim", "checked in"),
        (3, "dr.lee", "dosing started with override: tolerated 0.75 well"),
    ]


def test_two_nurses_on_one_session_conflict_instead_of_overwriting(new_uow) -> None:  # type: ignore[no-untyped-def]
    patient = Patient("Lee", "Chen", date(1970, 1, 1), "female")
    register_patient(new_uow(), DR, patient, WeightRecord(date(2026, 11, 20), 60.0))
    _, (record, *_) = create_plan(new_uow(), DR, patient.id, "iv-acute-series", date(2026, 11, 23))
    start = demo_settings().appointment(date(2026, 11, 23))
    r = runner.check_in_session(
        new_uow(),
        NURSE,
        record.id,
        record.version,
        PreChecks(True, True, PregnancyTest.NOT_APPLICABLE, BloodPressure(120, 80)),
        start,
    )
    runner.add_vitals(new_uow(), NURSE, r.id, r.version, start + timedelta(minutes=1), heart_rate=70)
    with pytest.raises(ConflictError):  # the second nurse read the same version
        runner.add_vitals(new_uow(), Actor("nurse.b", Role.NURSE), r.id, r.version, start + timedelta(minutes=2),
                          heart_rate=72)  # fmt: skip


def test_bad_input_changes_nothing(new_uow, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    patient = Patient("Ola", "Silva", date(1970, 1, 1), "female")
    register_patient(new_uow(), DR, patient, WeightRecord(date(2026, 11, 20), 60.0))
    _, (record, *_) = create_plan(new_uow(), DR, patient.id, "iv-acute-series", date(2026, 11, 23))
    start = demo_settings().appointment(date(2026, 11, 23))
    r = runner.check_in_session(
        new_uow(),
        NURSE,
        record.id,
        record.version,
        PreChecks(True, True, PregnancyTest.NOT_APPLICABLE, BloodPressure(120, 80)),
        start,
    )
    with engine.connect() as conn:
        before = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("record_versions", "audit_log")]  # fmt: skip
    with pytest.raises(InvalidAnswerError) as exc:
        runner.add_vitals(new_uow(), NURSE, r.id, r.version, start, spo2=140)
    assert exc.value.field == "spo2"
    with engine.connect() as conn:
        after = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                 for t in ("record_versions", "audit_log")]  # fmt: skip
    assert after == before
    assert runner.get_session(new_uow(), NURSE, r.id).version == r.version


def test_the_audit_log_is_append_only_in_the_database(new_uow, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    register_patient(new_uow(), DR, Patient("Mo", "Haddad", date(1970, 1, 1), "male"))
    for statement in ("UPDATE audit_log SET username = 'someone-else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with pytest.raises(PermissionDeniedError):
        audit_entries(new_uow(), NURSE)
