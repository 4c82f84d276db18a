"""Treatment sessions: state machine, pre-checks, BP gate, dose limits, observations and discharge.

Sources are rows of ``docs/references/clinical.md``, named in each test's docstring.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketamine_therapy.clinic.exceptions import ClinicError, InvalidAnswerError
from ketamine_therapy.clinic.sessions import (
    ALLOWED_TRANSITIONS,
    IV_STANDARD_DURATION,
    IV_STANDARD_MG_PER_KG,
    BloodPressure,
    DischargeAssessment,
    DoseLimits,
    EsketamineDose,
    ImDose,
    InvalidTransitionError,
    IvDose,
    Override,
    OverrideRequiredError,
    PreCheckPolicy,
    PreChecks,
    PregnancyTest,
    Session,
    SessionKind,
    SessionState,
    Severity,
    UnmetCriteriaError,
    Vitals,
    check_in,
    decide_bp,
    discharge,
    esketamine_precheck_policy,
    new_session,
    record_adverse_event,
    record_cadss6,
    record_moaas,
    record_vitals,
    start_dosing,
    stop,
    transition,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NURSE = "nurse.a"
ESK_POLICY = esketamine_precheck_policy(pregnancy_test_required=False)
IV_POLICY = PreCheckPolicy(
    ride_home_required=True,
    pregnancy_test_required=False,
    bp_gate=BloodPressure(140, 90),
    food_fast=None,
    liquid_fast=None,
)
ALL_STABLE = DischargeAssessment(True, True, True, True, True)
NORMAL_BP = BloodPressure(120, 80)


def _prechecks(bp: BloodPressure = NORMAL_BP, **kw: object) -> PreChecks:
    base = PreChecks(
        consent=True,
        ride_home=True,
        pregnancy_test=PregnancyTest.NEGATIVE,
        bp=bp,
        last_food_at=T0 - timedelta(hours=3),
        last_liquid_at=T0 - timedelta(hours=1),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _esk_dosing(mg: int = 56) -> Session:
    s = check_in(new_session(SessionKind.ESKETAMINE, T0), _prechecks(), ESK_POLICY, T0, NURSE)
    return start_dosing(s, EsketamineDose(mg), T0 + timedelta(minutes=10), NURSE)


def _esk_monitoring() -> Session:
    s = _esk_dosing()
    s = transition(s, SessionState.MONITORING, T0 + timedelta(minutes=20), NURSE)
    at = T0 + timedelta(minutes=50)
    return record_vitals(s, Vitals(at, NURSE, BloodPressure(130, 85), heart_rate=80, spo2=97, respiratory_rate=14))


# --- state machine -------------------------------------------------------------------------------------------


def test_illegal_step_names_current_and_allowed_states() -> None:
    """DESIGN §4 Sessions: scheduled → checked_in → dosing → monitoring → discharged (or stopped)."""
    s = new_session(SessionKind.IV_KETAMINE, T0)
    with pytest.raises(InvalidTransitionError, match=r"from scheduled to dosing; allowed next states: checked_in"):
        transition(s, SessionState.DOSING, T0, NURSE)
    with pytest.raises(InvalidTransitionError) as err:
        stop(s, "patient ill", T0, NURSE)
    assert err.value.current is SessionState.SCHEDULED
    assert err.value.allowed == ("checked_in",)


def test_naive_datetime_rejected() -> None:
    """All datetimes are timezone-aware (brief; no clinical.md rule)."""
    with pytest.raises(InvalidAnswerError, match="scheduled_at: naive datetime") as err:
        new_session(SessionKind.IV_KETAMINE, datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001
    assert err.value.field == "scheduled_at"
    s = new_session(SessionKind.IV_KETAMINE, T0)
    with pytest.raises(InvalidAnswerError, match="naive"):
        check_in(s, _prechecks(), IV_POLICY, datetime(2026, 3, 2, 9, 0), NURSE)  # noqa: DTZ001


def test_aware_non_utc_is_stored_as_utc() -> None:
    """Aware datetimes in another zone are normalised to UTC."""
    s = new_session(SessionKind.IV_KETAMINE, T0.astimezone(timezone(timedelta(hours=2))))
    assert s.scheduled_at == T0
    assert s.scheduled_at.tzinfo is UTC


def test_stop_needs_reason_and_time_cannot_run_backwards() -> None:
    """Stopped is reachable from checked_in/dosing/monitoring with a documented reason (DESIGN §4)."""
    s = check_in(new_session(SessionKind.IV_KETAMINE, T0), _prechecks(), IV_POLICY, T0, NURSE)
    with pytest.raises(InvalidAnswerError, match="reason"):
        stop(s, " ", T0, NURSE)
    with pytest.raises(InvalidAnswerError, match="before the last step"):
        stop(s, "nausea", T0 - timedelta(minutes=1), NURSE)
    stopped = stop(s, "nausea", T0 + timedelta(minutes=5), NURSE)
    assert stopped.state is SessionState.STOPPED
    assert stopped.history[-1].reason == "nausea"
    assert s.state is SessionState.CHECKED_IN  # the original is unchanged


def _recent_vitals(s: Session, at: datetime) -> Session:
    """The session with a full set of vitals within the discharge ranges, 5 minutes before ``at``."""
    return record_vitals(s, Vitals(at - timedelta(minutes=5), NURSE, BloodPressure(124, 80), 78, 97, 14))


def _advance(s: Session, to: SessionState, at: datetime) -> Session:
    """Take a step through the helper that records its data."""
    if to is SessionState.CHECKED_IN:
        return check_in(s, _prechecks(), IV_POLICY, at, NURSE)
    if to is SessionState.DOSING:
        return start_dosing(s, IvDose(70, IV_STANDARD_MG_PER_KG, IV_STANDARD_DURATION), at, NURSE)
    if to is SessionState.DISCHARGED:
        return discharge(_recent_vitals(s, at) if s.state is SessionState.MONITORING else s, ALL_STABLE, at, NURSE)
    if to is SessionState.STOPPED:
        return stop(s, "patient request", at, NURSE)
    return transition(s, to, at, NURSE)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(SessionState)), max_size=12))
def test_random_transition_sequences(targets: list[SessionState]) -> None:
    """Property: illegal steps raise and change nothing; legal steps succeed; every recorded step is legal."""
    s = new_session(SessionKind.IV_KETAMINE, T0)
    for i, to in enumerate(targets):
        at = T0 + timedelta(minutes=10 * i)
        if to in ALLOWED_TRANSITIONS[s.state]:
            s = _advance(s, to, at)
            assert s.state is to
        else:
            before = s
            with pytest.raises(InvalidTransitionError):
                _advance(s, to, at)
            with pytest.raises(InvalidTransitionError):
                transition(s, to, at, NURSE, "x")
            assert s == before
    state = SessionState.SCHEDULED
    for step in s.history:
        assert step.from_state is state
        assert step.to_state in ALLOWED_TRANSITIONS[state]
        state = step.to_state
    assert state is s.state


def test_raw_transition_cannot_skip_data() -> None:
    """A bare transition() still enforces the criteria: no pre-checks, no dose → refused."""
    s = new_session(SessionKind.IV_KETAMINE, T0)
    with pytest.raises(UnmetCriteriaError, match="no pre-checks recorded"):
        transition(s, SessionState.CHECKED_IN, T0, NURSE)
    s = check_in(s, _prechecks(), IV_POLICY, T0, NURSE)
    with pytest.raises(UnmetCriteriaError, match="no dose recorded"):
        transition(s, SessionState.DOSING, T0, NURSE)


# --- pre-checks -----------------------------------------------------------------------------------------------


def test_esketamine_check_in_names_every_missing_precheck() -> None:
    """clinical.md §1a 'Driving' (ride home), 'Pre-dose instructions' (fasting times), §1b ASKP3 (consent)."""
    s = new_session(SessionKind.ESKETAMINE, T0)
    pre = _prechecks(consent=False, ride_home=False, last_food_at=None)
    with pytest.raises(UnmetCriteriaError) as err:
        check_in(s, pre, ESK_POLICY, T0, NURSE)
    text = str(err.value)
    assert "consent" in text
    assert "ride home" in text
    assert "last_food_at not recorded" in text
    assert len(err.value.unmet) == 3


def test_positive_pregnancy_test_refuses_and_required_test_must_be_done() -> None:
    """clinical.md §1a Contraindications 'Pregnancy: may cause fetal harm'; §1b exclusion lists."""
    s = new_session(SessionKind.IV_KETAMINE, T0)
    with pytest.raises(UnmetCriteriaError, match="positive pregnancy test"):
        check_in(s, _prechecks(pregnancy_test=PregnancyTest.POSITIVE), IV_POLICY, T0, NURSE)
    policy = replace(IV_POLICY, pregnancy_test_required=True)
    with pytest.raises(UnmetCriteriaError, match="pregnancy test required"):
        check_in(s, _prechecks(pregnancy_test=PregnancyTest.NOT_DONE), policy, T0, NURSE)
    ok = check_in(s, _prechecks(pregnancy_test=PregnancyTest.NOT_APPLICABLE), policy, T0, NURSE)
    assert ok.state is SessionState.CHECKED_IN


def test_esketamine_policy_cannot_be_looser_than_label() -> None:
    """clinical.md §1a 'Pre-dose instructions' (≥2 h food, ≥30 min liquids) and 'BP threshold' (>140/90)."""
    s = new_session(SessionKind.ESKETAMINE, T0)
    for loose in (
        replace(ESK_POLICY, food_fast=timedelta(hours=1)),
        replace(ESK_POLICY, liquid_fast=None),
        replace(ESK_POLICY, ride_home_required=False),
        replace(ESK_POLICY, bp_gate=BloodPressure(160, 100)),
    ):
        with pytest.raises(InvalidAnswerError, match="policy"):
            check_in(s, _prechecks(), loose, T0, NURSE)


def test_esketamine_fasting_checked_at_dosing() -> None:
    """clinical.md §1a 'Pre-dose instructions': avoid food ≥2 h and liquids ≥30 min before dosing."""
    pre = _prechecks(last_food_at=T0 - timedelta(minutes=100), last_liquid_at=T0 - timedelta(minutes=10))
    s = check_in(new_session(SessionKind.ESKETAMINE, T0), pre, ESK_POLICY, T0, NURSE)
    with pytest.raises(UnmetCriteriaError) as err:
        start_dosing(s, EsketamineDose(56), T0 + timedelta(minutes=10), NURSE)
    assert [u.split()[0] for u in err.value.unmet] == ["food", "liquids"]
    ok = start_dosing(s, EsketamineDose(56), T0 + timedelta(minutes=20), NURSE)
    assert ok.state is SessionState.DOSING


# --- BP gate ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bp", [BloodPressure(141, 80), BloodPressure(130, 91)])
def test_bp_gate_needs_documented_decision(bp: BloodPressure) -> None:
    """clinical.md §1a 'BP threshold, exact wording': >140/90 is a soft gate needing a decision (label §5.6)."""
    s = check_in(new_session(SessionKind.ESKETAMINE, T0), _prechecks(bp), ESK_POLICY, T0, NURSE)
    assert s.bp_gate_open
    later = T0 + timedelta(minutes=30)
    with pytest.raises(UnmetCriteriaError, match="needs a documented decision"):
        start_dosing(s, EsketamineDose(56), later, NURSE)
    delayed = decide_bp(s, False, "BP 150/95 on recheck", "dr.b", later)
    with pytest.raises(UnmetCriteriaError, match="decision was to delay"):
        start_dosing(delayed, EsketamineDose(56), later, NURSE)
    decided = decide_bp(s, True, "asymptomatic, white-coat pattern", "dr.b", later)
    assert decided.bp_decision is not None
    assert decided.bp_decision.by == "dr.b"
    assert start_dosing(decided, EsketamineDose(56), later, NURSE).state is SessionState.DOSING


def test_bp_at_gate_needs_no_decision() -> None:
    """clinical.md §1a: the guide is '>140/90', so 140/90 itself is not above it."""
    s = check_in(new_session(SessionKind.ESKETAMINE, T0), _prechecks(BloodPressure(140, 90)), ESK_POLICY, T0, NURSE)
    assert not s.bp_gate_open
    with pytest.raises(InvalidAnswerError, match="not above the gate"):
        decide_bp(s, True, "x", "dr.b", T0)
    with pytest.raises(InvalidAnswerError, match="reason"):
        decide_bp(
            check_in(
                new_session(SessionKind.ESKETAMINE, T0), _prechecks(BloodPressure(150, 80)), ESK_POLICY, T0, NURSE
            ),
            True,
            "",
            "dr.b",
            T0,
        )


# --- dose ---------------------------------------------------------------------------------------------------------


def test_iv_weight_based_dose_and_rate() -> None:
    """clinical.md §1b 'Standard dose' (Andrade 2017): 0.5 mg/kg over 40 min → 70 kg: 35 mg at 52.5 mg/h."""
    dose = IvDose(70, IV_STANDARD_MG_PER_KG, IV_STANDARD_DURATION)
    assert dose.total_mg == pytest.approx(35.0)
    assert dose.rate_mg_per_h == pytest.approx(52.5)


def test_iv_dose_above_limit_needs_override_which_is_recorded() -> None:
    """clinical.md §1b 'Standard dose': range 0.1–0.75 mg/kg (Andrade 2017) as the default hard limits."""
    s = check_in(new_session(SessionKind.IV_KETAMINE, T0), _prechecks(), IV_POLICY, T0, NURSE)
    dose = IvDose(70, 0.8, IV_STANDARD_DURATION)
    with pytest.raises(OverrideRequiredError, match=r"0\.8 mg/kg is outside the hard limits 0\.1-0\.75"):
        start_dosing(s, dose, T0, NURSE)
    override = Override("partial response at 0.75 mg/kg", "dr.b", T0)
    dosed = start_dosing(s, dose, T0, NURSE, override=override)
    assert dosed.override == override
    assert dosed.dose == dose
    assert start_dosing(s, dose, T0, NURSE, limits=DoseLimits("mg/kg", 0.1, 1.0)).override is None


def test_im_has_no_default_limits_and_dose_type_must_match() -> None:
    """clinical.md §1b 'IM ketamine dosing norms' is UNVERIFIED: the clinic must pass DoseLimits."""
    s = check_in(new_session(SessionKind.IM_KETAMINE, T0), _prechecks(), IV_POLICY, T0, NURSE)
    with pytest.raises(InvalidAnswerError, match="no default for im-ketamine"):
        start_dosing(s, ImDose(70, 0.5), T0, NURSE)
    with pytest.raises(InvalidAnswerError, match="IvDose for im-ketamine"):
        start_dosing(s, IvDose(70, 0.5, IV_STANDARD_DURATION), T0, NURSE, limits=DoseLimits("mg/kg", 0.1, 1))
    dosed = start_dosing(s, ImDose(70, 0.5), T0, NURSE, limits=DoseLimits("mg/kg", 0.1, 1))
    assert dosed.dose is not None
    assert dosed.dose.total_mg == pytest.approx(35.0)


def test_esketamine_devices_and_limits() -> None:
    """clinical.md §1a 'Dose steps': 28 mg per device, 56 = 2, 84 = 3 devices, 5 min after each; doses 56/84."""
    assert EsketamineDose(84).devices == 3
    times = EsketamineDose(56).device_times(T0)
    assert times == (T0, T0 + timedelta(minutes=5))
    with pytest.raises(InvalidAnswerError, match="multiple of 28"):
        EsketamineDose(60)
    with pytest.raises(InvalidAnswerError, match="total_mg"):
        EsketamineDose(112)  # above the label's 84 mg: the absolute ceiling, no override
    with pytest.raises(OverrideRequiredError):
        _esk_dosing(mg=28)  # the ≥65 EU/HK 28 mg start needs DoseLimits("mg", 28, 84)


def test_esketamine_monitoring_waits_for_last_device() -> None:
    """clinical.md §1a 'Dose steps': wait 5 min after each device, so 84 mg = 15 min of dosing."""
    s = _esk_dosing(mg=84)
    with pytest.raises(UnmetCriteriaError, match="last device wait"):
        transition(s, SessionState.MONITORING, T0 + timedelta(minutes=24), NURSE)
    assert transition(s, SessionState.MONITORING, T0 + timedelta(minutes=25), NURSE).state is SessionState.MONITORING


# --- observations -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"heart_rate": 400}, "heart_rate"),
        ({"spo2": 101}, "spo2"),
        ({"respiratory_rate": -1}, "respiratory_rate"),
    ],
)
def test_implausible_vitals_rejected(kwargs: dict[str, int], field: str) -> None:
    """Data-entry plausibility ranges (not clinical thresholds; clinical.md §2b LibreHealth #1691 asks for them)."""
    with pytest.raises(InvalidAnswerError, match=f"^{field}: .* out of range") as err:
        Vitals(T0, NURSE, **kwargs)  # type: ignore[arg-type]
    assert err.value.allowed


def test_implausible_bp_and_empty_vitals_rejected() -> None:
    """Systolic/diastolic plausibility and ordering; a vitals entry needs at least one value."""
    with pytest.raises(InvalidAnswerError, match="systolic: 400"):
        BloodPressure(400, 80)
    with pytest.raises(InvalidAnswerError, match="not below systolic"):
        BloodPressure(80, 90)
    with pytest.raises(InvalidAnswerError, match="at least one"):
        Vitals(T0, NURSE)


def test_observations_recorded_in_clinic_states_only() -> None:
    """clinical.md §1a 'Sedation / dissociation rates' (MOAA/S, CADSS) and §1d CADSS-6 (0–24), MOAA/S (0–5)."""
    s = _esk_monitoring()
    at = T0 + timedelta(minutes=60)
    s = record_cadss6(record_moaas(s, 4, at, NURSE), 3, at, NURSE)
    s = record_adverse_event(s, "nausea", Severity.MILD, at, NURSE)
    assert (s.moaas[0].total, s.cadss6[0].total, s.adverse_events[0].severity) == (4, 3, Severity.MILD)
    with pytest.raises(InvalidAnswerError, match="moaas"):
        record_moaas(s, 6, at, NURSE)
    with pytest.raises(InvalidAnswerError, match="cadss6"):
        record_cadss6(s, 25, at, NURSE)
    with pytest.raises(InvalidAnswerError, match="before check-in"):
        record_moaas(s, 5, T0 - timedelta(minutes=1), NURSE)
    with pytest.raises(InvalidAnswerError, match="cannot record vitals in scheduled"):
        record_vitals(new_session(SessionKind.ESKETAMINE, T0), Vitals(T0, NURSE, spo2=98))


# --- discharge ----------------------------------------------------------------------------------------------------


def test_esketamine_discharge_before_120_min_refused() -> None:
    """clinical.md §1a 'Observation' (≥2 h) and REMS PMF (first device → end of monitoring ≥120 min)."""
    s = _esk_monitoring()
    first_device = T0 + timedelta(minutes=10)
    with pytest.raises(UnmetCriteriaError, match="need >= 2:00:00") as err:
        discharge(s, ALL_STABLE, first_device + timedelta(minutes=119), NURSE)
    assert len(err.value.unmet) == 1
    done = discharge(_recent_vitals(s, first_device + timedelta(minutes=120)), ALL_STABLE,
                     first_device + timedelta(minutes=120), NURSE)  # fmt: skip
    assert done.state is SessionState.DISCHARGED
    with pytest.raises(InvalidAnswerError, match="min_monitoring"):
        new_session(SessionKind.ESKETAMINE, T0, min_monitoring=timedelta(minutes=90))


def test_esketamine_discharge_names_unresolved_criteria() -> None:
    """clinical.md §1a 'REMS objective' (resolution of sedation, dissociation, respiratory depression),
    'Discharge rule' (BP decreasing, clinically stable), 'Respiratory monitoring' (pulse oximetry)."""
    s = transition(_esk_dosing(), SessionState.MONITORING, T0 + timedelta(minutes=20), NURSE)
    at = T0 + timedelta(hours=3)
    with pytest.raises(UnmetCriteriaError) as err:
        discharge(s, DischargeAssessment(False, False, False, False, False), at, NURSE)
    text = str(err.value)
    for what in (
        "clinically stable",
        "sedation",
        "dissociation",
        "respiratory depression",
        "BP not decreasing",
        "pulse oximetry",
        "no BP after dosing",
    ):
        assert what in text


def test_iv_discharge_uses_clinic_minimum() -> None:
    """clinical.md gives no IV minimum monitoring time: none by default, clinic-configurable."""
    s = new_session(SessionKind.IV_KETAMINE, T0, min_monitoring=timedelta(minutes=60))
    s = _advance(
        _advance(_advance(s, SessionState.CHECKED_IN, T0), SessionState.DOSING, T0),
        SessionState.MONITORING,
        T0 + timedelta(minutes=40),
    )
    with pytest.raises(UnmetCriteriaError, match="clinic setting"):
        discharge(s, ALL_STABLE, T0 + timedelta(minutes=50), NURSE)
    at = T0 + timedelta(minutes=60)
    assert discharge(_recent_vitals(s, at), ALL_STABLE, at, NURSE).state is SessionState.DISCHARGED
    assert isinstance(UnmetCriteriaError(SessionState.DISCHARGED, ()), ClinicError)
