"""Protocol templates, session plans and booster rules (sources: docs/references/clinical.md §1a, §1b, §1d)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest

from ketamine_therapy.clinic.exceptions import ClinicError, InvalidAnswerError
from ketamine_therapy.clinic.protocols.boosters import BoosterRules, recommend_booster
from ketamine_therapy.clinic.protocols.calendar import TreatmentPlan, plan_sessions
from ketamine_therapy.clinic.protocols.templates import (
    IM_TEMPLATE,
    IV_ACUTE_SERIES,
    SPRAVATO_MDSI,
    SPRAVATO_TRD,
    TEMPLATES,
    ProtocolKind,
    ProtocolStep,
)
from ketamine_therapy.pharmacology.regimen import IV_ACUTE_SERIES_DAYS, spravato_trd_schedule

MONDAY = date(2025, 3, 3)
WEEKDAYS = {0, 1, 2, 3, 4}
RULES = BoosterRules(worsening_points=5, worsening_percent=50.0, max_days_since_session=28)


def _study_days(plan: TreatmentPlan) -> list[int]:
    return [(s.nominal_day - plan.start).days + 1 for s in plan.sessions]


def test_iv_acute_series_matches_source() -> None:
    """clinical.md §1b: 0.5 mg/kg over 40 min; six sessions, three a week over two weeks."""
    plan = plan_sessions(IV_ACUTE_SERIES, MONDAY, WEEKDAYS)
    assert len(plan.sessions) == 6
    assert {(s.dose_mg_per_kg, s.duration_min, s.dose_mg) for s in plan.sessions} == {(0.5, 40.0, None)}
    assert (plan.sessions[-1].day - plan.start).days < 14
    assert _study_days(plan) == list(IV_ACUTE_SERIES_DAYS)
    assert IV_ACUTE_SERIES.kind.route == "iv"


def test_spravato_trd_matches_label_schedule() -> None:
    """clinical.md §1a Dosing schedule: weeks 1-4 twice weekly (day 1 56 mg), weeks 5-8 weekly, week 9+ every 2 weeks
    or weekly."""
    plan = plan_sessions(SPRAVATO_TRD, MONDAY, WEEKDAYS, through_week=12)
    weeks = [s.study_week for s in plan.sessions]
    assert weeks == [1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9, 11]
    assert plan.sessions[0].dose_mg == 56.0
    assert all(s.dose_mg in (56.0, 84.0) and s.dose_mg_per_kg is None for s in plan.sessions)
    regimen = spravato_trd_schedule(dose_mg=56.0, weeks=12, maintenance_every_weeks=2)
    assert _study_days(plan) == [round(d.time_h / 24) + 1 for d in regimen.doses]
    assert len(plan_sessions(SPRAVATO_TRD, MONDAY, WEEKDAYS).sessions) == 12  # default horizon: week 8
    weekly = SPRAVATO_TRD.with_changes(steps=(*SPRAVATO_TRD.steps[:2], _replace_every(SPRAVATO_TRD.steps[2], 1)))
    assert [s.study_week for s in plan_sessions(weekly, MONDAY, WEEKDAYS, through_week=10).sessions][-2:] == [9, 10]


def _replace_every(step: ProtocolStep, every: int) -> ProtocolStep:
    return ProtocolStep(
        step.first_week, step.last_week, step.week_days, step.source, dose_mg=step.dose_mg, every_weeks=every
    )


def test_spravato_mdsi_matches_source_and_stops_at_4_weeks() -> None:
    """clinical.md §1a MDSI: 84 mg twice weekly x 4 weeks, may reduce to 56 mg; not studied beyond 4 weeks."""
    plan = plan_sessions(SPRAVATO_MDSI, MONDAY, WEEKDAYS)
    assert [s.dose_mg for s in plan.sessions] == [84.0] * 8
    step = SPRAVATO_MDSI.steps[0]
    reduced = ProtocolStep(1, 4, (0, 3), step.source, dose_mg=56.0)
    assert SPRAVATO_MDSI.with_changes(steps=(reduced,)).steps[0].dose_mg == 56.0
    with pytest.raises(InvalidAnswerError) as err:
        SPRAVATO_MDSI.with_changes(steps=(ProtocolStep(1, 5, (0, 3), step.source, dose_mg=84.0),))
    assert err.value.field == "steps[0].last_week"


def test_im_template_has_no_unsourced_dose() -> None:
    """clinical.md §1b: IM ketamine dosing norms are UNVERIFIED, so the template has no steps or dose."""
    assert IM_TEMPLATE.steps == ()
    assert "UNVERIFIED" in IM_TEMPLATE.source
    with pytest.raises(ClinicError, match="no steps"):
        plan_sessions(IM_TEMPLATE, MONDAY, WEEKDAYS)
    own = IM_TEMPLATE.with_changes(steps=(ProtocolStep(1, 2, (0,), "clinic policy", dose_mg_per_kg=1.0),))
    assert len(plan_sessions(own, MONDAY, WEEKDAYS).sessions) == 2
    assert set(TEMPLATES) == {"iv-acute-series", "spravato-trd", "spravato-mdsi", "im"}


def test_84_mg_never_before_a_56_mg_start() -> None:
    """clinical.md §1a Dose steps: 84 mg only after a 56 mg start; doses are 56 or 84 mg."""
    source = SPRAVATO_TRD.steps[0].source
    with pytest.raises(InvalidAnswerError) as err:
        SPRAVATO_TRD.with_changes(steps=(ProtocolStep(1, 4, (0, 3), source, dose_mg=84.0),))
    assert err.value.field == "steps[0].first_dose_mg"
    with pytest.raises(InvalidAnswerError):
        SPRAVATO_TRD.with_changes(steps=(ProtocolStep(1, 4, (0, 3), source, dose_mg=84.0, first_dose_mg=84.0),))
    with pytest.raises(InvalidAnswerError) as err:
        SPRAVATO_TRD.with_changes(steps=(ProtocolStep(1, 4, (0, 3), source, dose_mg=70.0, first_dose_mg=56.0),))
    assert err.value.field == "steps[0].dose_mg"
    edited = SPRAVATO_TRD.with_changes(steps=(ProtocolStep(1, 4, (0, 3), source, dose_mg=84.0, first_dose_mg=56.0),))
    doses = [s.dose_mg for s in plan_sessions(edited, MONDAY, WEEKDAYS).sessions]
    assert doses == [56.0] + [84.0] * 7
    assert SPRAVATO_TRD.steps[0].dose_mg == 56.0  # the template itself is unchanged


def test_plan_skips_closed_days_and_holidays() -> None:
    """Sessions move to the next opening day, keep their order and stay in their study week."""
    holidays = {MONDAY + timedelta(days=2), MONDAY + timedelta(days=9)}
    plan = plan_sessions(IV_ACUTE_SERIES, MONDAY, WEEKDAYS, holidays)
    days = [s.day for s in plan.sessions]
    assert days[:3] == [MONDAY, MONDAY + timedelta(days=3), MONDAY + timedelta(days=4)]
    assert days[3:5] == [MONDAY + timedelta(days=7), MONDAY + timedelta(days=10)]
    assert all(d.weekday() in WEEKDAYS and d not in holidays for d in days)
    assert all(b > a for a, b in pairwise(days))
    assert all(0 <= (s.day - s.nominal_day).days < 7 for s in plan.sessions)
    saturday_start = plan_sessions(SPRAVATO_TRD, MONDAY - timedelta(days=2), WEEKDAYS)
    assert saturday_start.sessions[0].day == MONDAY


def test_integration_sessions_24_to_72_h_after() -> None:
    """DESIGN §4 / clinical.md §2a, §4: integration therapy within 24-72 h after each treatment session."""
    tuesday = MONDAY + timedelta(days=1)
    plan = plan_sessions(SPRAVATO_TRD, MONDAY, WEEKDAYS, {tuesday}, through_week=10)
    for s in plan.sessions:
        assert 1 <= (s.integration_day - s.day).days <= 3
        assert s.integration_day.weekday() in WEEKDAYS
    assert plan.sessions[0].integration_day == MONDAY + timedelta(days=2)  # Tuesday is a holiday: Wednesday (48 h)
    assert plan.sessions[1].integration_day == MONDAY + timedelta(days=4)  # Thursday session: Friday (24 h)
    friday_plan = plan_sessions(SPRAVATO_TRD, MONDAY + timedelta(days=4), WEEKDAYS)
    assert friday_plan.sessions[0].integration_day == MONDAY + timedelta(days=7)  # Friday -> Monday (72 h)


def test_impossible_plans_are_refused() -> None:
    """Twice weekly cannot fit one opening day a week; no opening day 24-72 h later blocks integration."""
    with pytest.raises(ClinicError, match="study week 1"):
        plan_sessions(SPRAVATO_TRD, MONDAY, {0, 1})
    friday = MONDAY + timedelta(days=4)
    step = ProtocolStep(1, 1, (0,), "test", dose_mg_per_kg=0.5, duration_min=40.0)
    with pytest.raises(ClinicError, match="integration"):
        plan_sessions(IV_ACUTE_SERIES.with_changes(steps=(step,)), friday, WEEKDAYS, {friday + timedelta(days=3)})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"opening_days": set()}, "opening_days"),
        ({"opening_days": {7}}, "opening_days"),
        ({"holidays": {"2025-03-05"}}, "holidays"),
        ({"start": "2025-03-03"}, "start"),
        ({"through_week": 0}, "through_week"),
    ],
)
def test_plan_errors_name_fields(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"protocol": IV_ACUTE_SERIES, "start": MONDAY, "opening_days": WEEKDAYS, **kwargs}
    with pytest.raises(InvalidAnswerError) as err:
        plan_sessions(**args)  # type: ignore[arg-type]
    assert err.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"week_days": ()}, "week_days"),
        ({"week_days": (3, 0)}, "week_days"),
        ({"week_days": (7,)}, "week_days"),
        ({"first_week": 0}, "first_week"),
        ({"last_week": 0}, "last_week"),
        ({"every_weeks": 0}, "every_weeks"),
        ({"dose_mg": 56.0}, "dose"),
        ({"dose_mg_per_kg": -0.5}, "dose_mg_per_kg"),
        ({"duration_min": 0}, "duration_min"),
        ({"first_dose_mg": 56.0}, "first_dose_mg"),
    ],
)
def test_step_errors_name_fields(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "first_week": 1,
        "last_week": 2,
        "week_days": (0,),
        "source": "test",
        "dose_mg_per_kg": 0.5,
        "duration_min": 40.0,
        **kwargs,
    }
    with pytest.raises(InvalidAnswerError) as err:
        ProtocolStep(**args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_protocol_edit_errors_name_fields() -> None:
    step = IV_ACUTE_SERIES.steps[0]
    cases: list[tuple[dict[str, object], str]] = [
        ({"name": " "}, "name"),
        ({"kind": "oral"}, "kind"),
        ({"colour": "red"}, "colour"),
        ({"steps": (step, step)}, "steps[1].first_week"),
        ({"kind": ProtocolKind.IM, "steps": (step,)}, "steps[0].duration_min"),
        ({"steps": (ProtocolStep(1, 2, (0,), "x", dose_mg=50.0),)}, "steps[0].dose"),
    ]
    for changes, field in cases:
        with pytest.raises(InvalidAnswerError) as err:
            IV_ACUTE_SERIES.with_changes(**changes)
        assert err.value.field == field, changes


def test_booster_fires_with_explanations() -> None:
    """Worsening from best (clinic thresholds), loss of response (clinical.md §1d: >=50 % drop), time since session."""
    course = [
        (MONDAY, 20, "PHQ-9"),
        (MONDAY + timedelta(days=14), 6, "PHQ-9"),
        (MONDAY + timedelta(days=42), 14, "PHQ-9"),
    ]
    rec = recommend_booster(course, MONDAY + timedelta(days=10), MONDAY + timedelta(days=42), RULES)
    assert rec.recommend
    assert len(rec.reasons) == 4
    assert "8 points up (threshold 5)" in rec.reasons[0]
    assert "133% up (threshold 50%)" in rec.reasons[1]
    assert "reached and now lost" in rec.reasons[2]
    assert "32 days since the last session (maximum 28)" in rec.reasons[3]
    assert rec.inputs.baseline == (MONDAY, 20)
    assert rec.inputs.best == (MONDAY + timedelta(days=14), 6)
    assert rec.inputs.days_since_last_session == 32


def test_booster_not_recommended_explains_why() -> None:
    course = [
        (MONDAY, 20, "PHQ-9"),
        (MONDAY + timedelta(days=14), 6, "PHQ-9"),
        (MONDAY + timedelta(days=21), 8, "PHQ-9"),
    ]
    rec = recommend_booster(course, MONDAY + timedelta(days=14), MONDAY + timedelta(days=21), RULES)
    assert not rec.recommend
    assert all(r.startswith("not met: ") for r in rec.reasons)
    assert any("still met" in r for r in rec.reasons)
    only_days = BoosterRules(worsening_points=None, worsening_percent=None, max_days_since_session=7)
    rec = recommend_booster(course, MONDAY, MONDAY + timedelta(days=21), only_days)
    assert rec.recommend
    assert [r for r in rec.reasons if "days since" in r] == rec.reasons


def test_booster_rules_have_no_invented_defaults() -> None:
    """clinical.md gives no booster thresholds: every BoosterRules field is required."""
    with pytest.raises(TypeError):
        BoosterRules()  # type: ignore[call-arg]
    with pytest.raises(InvalidAnswerError) as err:
        BoosterRules(worsening_points=0, worsening_percent=None, max_days_since_session=None)
    assert err.value.field == "worsening_points"
    with pytest.raises(InvalidAnswerError) as err:
        BoosterRules(worsening_points=None, worsening_percent=-1.0, max_days_since_session=None)
    assert err.value.field == "worsening_percent"


@pytest.mark.parametrize(
    ("course", "last", "field"),
    [
        ([], MONDAY, "course"),
        ([(MONDAY, 10, "PHQ-9"), (MONDAY + timedelta(days=1), 10, "GAD-7")], MONDAY, "course"),
        ([(MONDAY, 10)], MONDAY, "course[0]"),
        ([(MONDAY, 10, "XYZ")], MONDAY, "scale_id"),
        ([(MONDAY, 99, "PHQ-9")], MONDAY, "totals_by_date[0]"),
        ([(MONDAY, 10, "PHQ-9")], MONDAY + timedelta(days=30), "last_session"),
        ([(MONDAY + timedelta(days=30), 10, "PHQ-9")], MONDAY, "course"),
    ],
)
def test_booster_errors_name_fields(course: list[tuple[object, ...]], last: date, field: str) -> None:
    with pytest.raises(InvalidAnswerError) as err:
        recommend_booster(course, last, MONDAY + timedelta(days=7), RULES)  # type: ignore[arg-type]
    assert err.value.field == field
