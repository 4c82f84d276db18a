"""A whole IV acute course walked through the clinic modules, with scales stored via the services (SQLite file).

screen -> plan (6 infusions) -> 6 sessions with pre-checks, a BP-gate decision, dose, timed vitals and discharge
-> MADRS after each -> response -> booster recommendation three weeks later -> course cost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ketamine_therapy.clinic.costs import DeliveredSession, PriceList, course_cost
from ketamine_therapy.clinic.patients import Patient, WeightRecord
from ketamine_therapy.clinic.protocols import IV_ACUTE_SERIES, BoosterRules, plan_sessions, recommend_booster
from ketamine_therapy.clinic.scales import course_summary
from ketamine_therapy.clinic.screening import AntidepressantTrial, ScreeningInput, screen
from ketamine_therapy.clinic.sessions import (
    BloodPressure,
    DischargeAssessment,
    IvDose,
    PreCheckPolicy,
    PreChecks,
    PregnancyTest,
    SessionKind,
    SessionState,
    Vitals,
    check_in,
    decide_bp,
    discharge,
    new_session,
    record_vitals,
    start_dosing,
    transition,
)
from ketamine_therapy.services.patients import record_scale, register_patient
from ketamine_therapy.storage.db import make_engine, make_session_factory
from ketamine_therapy.storage.migrate import upgrade
from ketamine_therapy.storage.repositories import SqlUnitOfWork

NURSE = "nurse.kim"
# The IV pre-check policy is a clinic setting: clinical.md sources no IV gate, so this clinic chose the label's 140/90.
IV_POLICY = PreCheckPolicy(
    ride_home_required=True,
    pregnancy_test_required=False,
    bp_gate=BloodPressure(140, 90),
    food_fast=None,
    liquid_fast=None,
)


def madrs_answers(total: int) -> list[int]:
    """Ten MADRS items (0-6) that add up to ``total``."""
    return [max(0, min(6, total - 6 * i)) for i in range(10)]


def run_session(day: date, weight_kg: float, pre_dose_bp: BloodPressure) -> object:
    start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    session = new_session(SessionKind.IV_KETAMINE, start, min_monitoring=timedelta(minutes=60))
    checks = PreChecks(consent=True, ride_home=True, pregnancy_test=PregnancyTest.NOT_APPLICABLE, bp=pre_dose_bp)
    session = check_in(session, checks, IV_POLICY, start, NURSE)
    if pre_dose_bp.above(IV_POLICY.bp_gate):
        session = decide_bp(session, True, "repeat BP 138/88 after 10 min rest; prescriber agrees", "dr.lee", start)
    session = start_dosing(session, IvDose(weight_kg, 0.5, timedelta(minutes=40)), start + timedelta(minutes=5), NURSE)
    for minutes, bp in ((15, BloodPressure(134, 86)), (30, BloodPressure(141, 90)), (40, BloodPressure(139, 88))):
        session = record_vitals(session, Vitals(start + timedelta(minutes=5 + minutes), NURSE, bp, 78, 98, 14))
    session = transition(session, SessionState.MONITORING, start + timedelta(minutes=45), NURSE)
    stable = DischargeAssessment(True, True, True, True, True)
    return discharge(session, stable, start + timedelta(minutes=70), NURSE)


def test_a_whole_iv_course(tmp_path: Path) -> None:
    # screening: two failed adequate trials in this episode -> TRD, no hard stop for IV
    trials = (
        AntidepressantTrial("sertraline", "ssri", True, 8, True, "none", True),
        AntidepressantTrial("venlafaxine", "snri", True, 10, True, "partial", True),
    )
    report = screen(ScreeningInput(episode_months=18, severity="moderate", trials=trials, augmentation_used=False,
                                   ect_used=False, route="iv"))  # fmt: skip
    assert report.trd.is_trd
    assert report.hard_stops == ()
    assert report.maudsley is not None

    # plan: 6 infusions from Monday 23 Nov 2026, clinic open Monday-Friday
    plan = plan_sessions(IV_ACUTE_SERIES, date(2026, 11, 23), opening_days={0, 1, 2, 3, 4})
    assert len(plan.sessions) == 6
    assert all(1 <= (s.integration_day - s.day).days <= 3 for s in plan.sessions)

    # patient and baseline on a real database file
    factory = make_session_factory(engine := make_engine(f"sqlite:///{tmp_path / 'clinic.db'}"))
    upgrade(engine)
    new_uow = lambda: SqlUnitOfWork(factory)  # noqa: E731
    patient = Patient("Sam", "Rivera", date(1979, 3, 2), "male")
    register_patient(new_uow(), patient, WeightRecord(date(2026, 11, 20), 72.0))
    record_scale(new_uow(), patient.id, "MADRS", madrs_answers(32), date(2026, 11, 23), NURSE)

    # six sessions; the third starts with BP 150/95 -> a documented decision, never a silent block
    totals = [18, 16, 13, 11, 9, 8]
    for planned, total in zip(plan.sessions, totals, strict=True):
        bp = BloodPressure(150, 95) if planned.number == 3 else BloodPressure(128, 82)
        session = run_session(planned.day, 72.0, bp)
        assert session.state is SessionState.DISCHARGED
        assert session.dose.total_mg == 36.0
        if planned.number == 3:
            assert session.bp_decision is not None
            assert session.bp_decision.proceed
        record_scale(new_uow(), patient.id, "MADRS", madrs_answers(total), planned.day + timedelta(days=1), NURSE)

    # response at the end of the series
    with new_uow() as uow:
        course = [(r.taken_on, r.result.total) for r in uow.scales.for_patient(patient.id)]
    summary = course_summary("MADRS", course)
    assert summary.baseline[1] == 32
    assert summary.in_response
    assert summary.in_remission  # MADRS 8 < 10

    # three weeks after the last infusion the score has climbed back: the booster rule fires and explains why
    last = plan.sessions[-1].day
    course.append((last + timedelta(days=21), 20))
    rules = BoosterRules(worsening_points=6, worsening_percent=None, max_days_since_session=28)
    advice = recommend_booster([(d, t, "MADRS") for d, t in course], last, last + timedelta(days=21), rules)
    assert advice.recommend
    assert any("response" in reason for reason in advice.reasons)

    # the course's cost, self-pay IV at the clinic's price
    cost = course_cost([DeliveredSession("iv")] * 6, PriceList({"iv": Decimal("450")}))
    assert cost.total == Decimal("2700")
    assert cost.patient_out_of_pocket == Decimal("2700")
    engine.dispose()
