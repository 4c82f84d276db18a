"""Treatment sessions: pre-checks, BP gate, dose, timed observations and discharge, as a state machine.

Every rule cites its row in ``docs/references/clinical.md`` (``SRC_*`` constants). Where clinical.md is
silent or UNVERIFIED, the value is a clinic parameter without a default:

- racemic (IV/IM) fasting intervals, ride-home rule and BP gate: :class:`PreCheckPolicy` has no defaults
  (only :func:`esketamine_precheck_policy` is sourced);
- IM dose limits (clinical.md §1b "IM ketamine dosing norms" is UNVERIFIED): :class:`DoseLimits` must be passed;
- IV/IM minimum monitoring time: ``new_session(min_monitoring=...)``, no rule when ``None``.

All functions are pure: they return a new :class:`Session` and never mutate. Datetimes must be timezone-aware and
are stored in UTC. Decision support only: the clinician decides and is named (``by``) on every step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from types import MappingProxyType
from typing import Literal

from ketamine_therapy.clinic.exceptions import ClinicError, InvalidAnswerError
from ketamine_therapy.clinic.quantities import (
    DIASTOLIC,
    ESKETAMINE_MG,
    HEART_RATE,
    IM_MG_PER_KG,
    INFUSION_MIN,
    IV_MG_PER_KG,
    RESPIRATORY_RATE,
    SPO2,
    SRC_ESKETAMINE_LABEL,
    SRC_KETALAR_LABEL,
    SYSTOLIC,
    WEIGHT_KG,
    Quantity,
)
from ketamine_therapy.clinic.scales import SCALES

__all__ = [
    "ABSOLUTE_CEILINGS",
    "ALLOWED_TRANSITIONS",
    "ESKETAMINE_BP_GATE",
    "ESKETAMINE_DEVICE_MG",
    "ESKETAMINE_DEVICE_WAIT",
    "ESKETAMINE_DOSE_LIMITS",
    "ESKETAMINE_FOOD_FAST",
    "ESKETAMINE_LIQUID_FAST",
    "ESKETAMINE_MIN_MONITORING",
    "IV_DOSE_LIMITS_ANDRADE",
    "IV_STANDARD_DURATION",
    "IV_STANDARD_MG_PER_KG",
    "AdverseEvent",
    "BloodPressure",
    "BpDecision",
    "ConcurrentSessionError",
    "DischargeAssessment",
    "DischargeRanges",
    "Dose",
    "DoseLimits",
    "EsketamineDose",
    "ImDose",
    "InvalidTransitionError",
    "IvDose",
    "Override",
    "OverrideRequiredError",
    "PreCheckPolicy",
    "PreChecks",
    "PregnancyTest",
    "ScoreEntry",
    "Session",
    "SessionKind",
    "SessionState",
    "Severity",
    "TimingPolicy",
    "Transition",
    "UnmetCriteriaError",
    "Vitals",
    "WarningAck",
    "check_in",
    "check_limits",
    "decide_bp",
    "discharge",
    "discharge_findings",
    "esketamine_precheck_policy",
    "new_session",
    "record_adverse_event",
    "record_cadss6",
    "record_moaas",
    "record_vitals",
    "start_dosing",
    "stop",
    "timing_warnings",
    "transition",
]

SRC_FASTING = "clinical.md §1a 'Pre-dose instructions' (2019 label p.4): food ≥2 h, liquids ≥30 min before, VERIFIED"
SRC_RIDE_HOME = "clinical.md §1a 'Driving' (label §17): no driving until the next day; patient needs a ride home"
SRC_CONSENT = (
    "clinical.md §1b 'ASKP3 starting dose' (consent) and §2a ketaminesoftware pre-infusion checklist (consent)"
)
SRC_PREGNANCY = (
    "clinical.md §1a Contraindications 'Pregnancy: may cause fetal harm' (label §17); §1b exclusion lists "
    "(PMC10812090 Table 1; Better U)"
)
SRC_BP_BEFORE = "clinical.md §1a 'BP timing' (label §5.6: assess BP before dosing); §1b Sanacora 'baseline BP'"
SRC_BP_GATE = "clinical.md §1a 'BP threshold, exact wording' (label §5.6): >140/90 'as a general guide', soft gate"
SRC_IV_DOSE = "clinical.md §1b 'Standard dose' (Andrade 2017): 0.5 mg/kg IV over 40 min, range 0.1–0.75 mg/kg"
SRC_DEVICES = "clinical.md §1a 'Dose steps': 28 mg per device, 56 mg = 2, 84 mg = 3, wait 5 min after each device"
SRC_ESK_DOSES = "clinical.md §1a 'Induction'/'Maintenance': 56 mg or 84 mg"
SRC_MONITORING = (
    "clinical.md §1a 'Observation' (boxed warning: ≥2 h) and REMS PMF 'total time… first device → end of "
    "monitoring; must be ≥120'"
)
SRC_RESOLUTION = (
    "clinical.md §1a 'REMS objective': at least two hours and until resolution of sedation, dissociation and "
    "respiratory depression; 'Discharge rule' (label §2): BP decreasing and clinically stable"
)
SRC_PULSE_OX = "clinical.md §1a 'Respiratory monitoring': pulse oximetry at every session"
SRC_BP_AFTER = "clinical.md §1a 'BP timing' (reassess after dosing) and REMS PMF BP 'before end of session'"
SRC_STABLE = "clinical.md §1a 'Observation': assessment that the patient is clinically stable and ready to leave"
SRC_MOAAS = "clinical.md §1d 'Sedation scale': MOAA/S, 0 = loss of consciousness (label §5.1)"
SRC_CEILING = f"{SRC_KETALAR_LABEL}; {SRC_ESKETAMINE_LABEL}"
SRC_DOSE_INTERVAL = (
    "clinical.md gives no minimum interval; every published schedule gives at most one dose a day (esketamine twice "
    "weekly, §1a 'Induction, weeks 1–4'; IV 'three times per week' / 'six sessions over two to three weeks', §1b "
    "'Acute series'), so the default is 24 h, the loosest interval all of them respect"
)
SRC_SCHEDULE_TOLERANCE = "project default, no clinical.md row: a warning only, each clinic sets its own"
SRC_DISCHARGE_SPO2 = (
    "modified Aldrete score (Aldrete 1995): full points only when 'able to maintain SpO2 >92% on room air' "
    "(en.wikipedia.org/wiki/Aldrete's_scoring_system; StatPearls 'Aldrete score')"
)
SRC_DISCHARGE_RR = (
    "Phase I recovery discharge criteria (BMC Anesthesiol 2015, doi 10.1186/s12871-015-0040-x, Table 1): "
    "hypoventilation = <8 respirations/min"
)
SRC_DISCHARGE_BP = (
    "Aldrete score 'BP ±20% of pre-anaesthetic level' (Aldrete 1970, as above) and clinical.md §1a 'Discharge rule' "
    "(BP decreasing); the rise side is checked"
)
SRC_VITALS_AGE = "clinical.md §1b 'BP monitoring frequency': Emory, BP every 15 min after the infusion"
SRC_CADSS6 = "clinical.md §1d 'CADSS': CADSS-6 short form, items 0–4 (total range from scales.SCALES['CADSS-6'])"


class SessionKind(Enum):
    """Route of the session."""

    IV_KETAMINE = "iv-ketamine"
    IM_KETAMINE = "im-ketamine"
    ESKETAMINE = "esketamine"


class SessionState(Enum):
    """Where a session is: scheduled → checked_in → dosing → monitoring → discharged, or stopped."""

    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    DOSING = "dosing"
    MONITORING = "monitoring"
    DISCHARGED = "discharged"
    STOPPED = "stopped"


ABSOLUTE_CEILINGS: Mapping[SessionKind, Quantity] = MappingProxyType(
    {
        SessionKind.IV_KETAMINE: IV_MG_PER_KG,
        SessionKind.IM_KETAMINE: IM_MG_PER_KG,
        SessionKind.ESKETAMINE: ESKETAMINE_MG,
    }
)
"""The highest dose per drug and route that no clinic limit and no override can pass (SRC_CEILING): IV 4.5 mg/kg and
IM 13 mg/kg (the racemic label's highest anaesthetic induction doses), esketamine 84 mg (its label's highest dose)."""

ALLOWED_TRANSITIONS: Mapping[SessionState, frozenset[SessionState]] = MappingProxyType(
    {
        SessionState.SCHEDULED: frozenset({SessionState.CHECKED_IN}),
        SessionState.CHECKED_IN: frozenset({SessionState.DOSING, SessionState.STOPPED}),
        SessionState.DOSING: frozenset({SessionState.MONITORING, SessionState.STOPPED}),
        SessionState.MONITORING: frozenset({SessionState.DISCHARGED, SessionState.STOPPED}),
        SessionState.DISCHARGED: frozenset(),
        SessionState.STOPPED: frozenset(),
    }
)

# Observations may be entered once the patient is in the clinic, including after a stop.
_ENTRY_STATES = frozenset({SessionState.CHECKED_IN, SessionState.DOSING, SessionState.MONITORING, SessionState.STOPPED})


class PregnancyTest(Enum):
    """Result of the pre-session pregnancy test; ``NOT_APPLICABLE`` when the clinician judges it irrelevant."""

    NEGATIVE = "negative"
    POSITIVE = "positive"
    NOT_APPLICABLE = "not_applicable"
    NOT_DONE = "not_done"


class Severity(Enum):
    """Severity of an adverse event."""

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class InvalidTransitionError(ClinicError):
    """The state machine does not allow ``current`` → ``requested``; ``allowed`` lists the legal next states."""

    def __init__(self, current: SessionState, requested: SessionState) -> None:
        self.current = current
        self.requested = requested
        self.allowed = tuple(sorted(s.value for s in ALLOWED_TRANSITIONS[current]))
        super().__init__(
            f"cannot go from {current.value} to {requested.value}; allowed next states: "
            f"{', '.join(self.allowed) or 'none (final state)'}"
        )


class UnmetCriteriaError(ClinicError):
    """A legal step whose clinical criteria are not met; ``unmet`` names each one."""

    def __init__(self, step: SessionState, unmet: tuple[str, ...]) -> None:
        self.step = step
        self.unmet = unmet
        super().__init__(f"cannot move to {step.value}: " + "; ".join(unmet))


class OverrideRequiredError(ClinicError):
    """A step needs a documented :class:`Override`: a dose outside the clinic's limits, or ``warnings`` (timing of
    the session, recorded vitals contradicting a discharge) that nobody has overridden yet."""

    def __init__(self, message: str, warnings: tuple[str, ...] = ()) -> None:
        self.warnings = warnings
        super().__init__(message)


class ConcurrentSessionError(ClinicError):
    """Another session of the same patient is still open: two sessions never run at once (no override)."""


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidAnswerError(field, f"naive datetime {value.isoformat()}", "timezone-aware datetime (UTC)")
    return value.astimezone(UTC)


def _who(value: str, field: str) -> str:
    if not value.strip():
        raise InvalidAnswerError(field, "must not be empty", "a non-empty name or reason")
    return value


@dataclass(frozen=True)
class BloodPressure:
    """A blood pressure in mmHg, checked for plausibility (systolic above diastolic)."""

    systolic: int
    diastolic: int

    def __post_init__(self) -> None:
        SYSTOLIC.check(self.systolic)
        DIASTOLIC.check(self.diastolic)
        if self.diastolic >= self.systolic:
            raise InvalidAnswerError("diastolic", f"{self.diastolic} is not below systolic {self.systolic}")

    def above(self, gate: BloodPressure) -> bool:
        """Whether either value exceeds the gate (">140/90" read as systolic >140 or diastolic >90)."""
        return self.systolic > gate.systolic or self.diastolic > gate.diastolic

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic}"


ESKETAMINE_BP_GATE = BloodPressure(140, 90)  # SRC_BP_GATE
ESKETAMINE_FOOD_FAST = timedelta(hours=2)  # SRC_FASTING
ESKETAMINE_LIQUID_FAST = timedelta(minutes=30)  # SRC_FASTING


@dataclass(frozen=True)
class PreCheckPolicy:
    """Which pre-checks a clinic requires; no defaults because clinical.md sources them only for esketamine."""

    ride_home_required: bool
    pregnancy_test_required: bool
    bp_gate: BloodPressure
    food_fast: timedelta | None
    liquid_fast: timedelta | None


def esketamine_precheck_policy(*, pregnancy_test_required: bool) -> PreCheckPolicy:
    """The label's pre-checks (ride home, 140/90 gate, fasting); clinical.md does not mandate a pregnancy test."""
    return PreCheckPolicy(
        ride_home_required=True,  # SRC_RIDE_HOME
        pregnancy_test_required=pregnancy_test_required,
        bp_gate=ESKETAMINE_BP_GATE,
        food_fast=ESKETAMINE_FOOD_FAST,
        liquid_fast=ESKETAMINE_LIQUID_FAST,
    )


@dataclass(frozen=True)
class PreChecks:
    """What was checked before dosing; ``last_food_at``/``last_liquid_at`` are needed when the policy fasts."""

    consent: bool
    ride_home: bool
    pregnancy_test: PregnancyTest
    bp: BloodPressure
    last_food_at: datetime | None = None
    last_liquid_at: datetime | None = None


@dataclass(frozen=True)
class BpDecision:
    """A documented decision on an elevated pre-dose BP: proceed (``True``) or delay, why, by whom, when."""

    proceed: bool
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class DoseLimits:
    """Clinic hard limits for one route, inclusive; ``unit`` is ``mg/kg`` (IV/IM) or ``mg`` (esketamine)."""

    unit: Literal["mg/kg", "mg"]
    low: float
    high: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and 0 < self.low <= self.high):
            raise InvalidAnswerError("limits", f"low {self.low}, high {self.high}", "finite, 0 < low <= high")


def check_limits(kind: SessionKind, limits: DoseLimits) -> DoseLimits:
    """``limits`` if their unit fits ``kind`` and they stay under the absolute ceiling (SRC_CEILING)."""
    ceiling = ABSOLUTE_CEILINGS[kind]
    if limits.unit != ceiling.unit:
        raise InvalidAnswerError("limits.unit", limits.unit, ceiling.unit)
    if limits.high > ceiling.high:
        raise InvalidAnswerError("limits.high", f"{limits.high:g} {limits.unit} is above the absolute ceiling",
                                 f"<= {ceiling.high:g} {ceiling.unit} ({SRC_CEILING})")  # fmt: skip
    return limits


DEFAULT_MIN_DOSE_INTERVAL = timedelta(hours=24)  # SRC_DOSE_INTERVAL
DEFAULT_SCHEDULE_TOLERANCE = timedelta(days=1)  # SRC_SCHEDULE_TOLERANCE


@dataclass(frozen=True)
class TimingPolicy:
    """When a session may run: at least ``min_dose_interval`` after the patient's previous dose of the same drug and
    route, and within ``schedule_tolerance`` of its scheduled time; otherwise a prescriber overrides (SRC_*)."""

    min_dose_interval: timedelta = DEFAULT_MIN_DOSE_INTERVAL
    schedule_tolerance: timedelta = DEFAULT_SCHEDULE_TOLERANCE

    def __post_init__(self) -> None:
        for name in ("min_dose_interval", "schedule_tolerance"):
            if not timedelta(0) <= getattr(self, name) <= timedelta(days=365):
                raise InvalidAnswerError(name, str(getattr(self, name)), "0 to 365 days")


@dataclass(frozen=True)
class DischargeRanges:
    """Recorded vitals a discharge is checked against: the latest BP, SpO2 and respiratory rate, each taken within
    ``vitals_max_age_min`` before discharge (SRC_VITALS_AGE); SpO2 >= ``spo2_min`` % (SRC_DISCHARGE_SPO2), rate >=
    ``respiratory_rate_min``/min (SRC_DISCHARGE_RR), systolic at most ``systolic_rise_max_pct`` % above the
    pre-dose value (SRC_DISCHARGE_BP)."""

    spo2_min: int = 93
    respiratory_rate_min: int = 8
    systolic_rise_max_pct: int = 20
    vitals_max_age_min: int = 15

    def __post_init__(self) -> None:
        SPO2.check(self.spo2_min, "spo2_min")
        RESPIRATORY_RATE.check(self.respiratory_rate_min, "respiratory_rate_min")
        for name, high in (("systolic_rise_max_pct", 200), ("vitals_max_age_min", 240)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
                raise InvalidAnswerError(name, f"{value!r}", f"a whole number 0-{high}")


IV_STANDARD_MG_PER_KG = 0.5  # SRC_IV_DOSE
IV_STANDARD_DURATION = timedelta(minutes=40)  # SRC_IV_DOSE
IV_DOSE_LIMITS_ANDRADE = DoseLimits("mg/kg", 0.1, 0.75)  # SRC_IV_DOSE
ESKETAMINE_DOSE_LIMITS = DoseLimits("mg", 56, 84)  # SRC_ESK_DOSES (EU/HK label allows 28 mg at ≥65: set low=28)
ESKETAMINE_DEVICE_MG = 28  # SRC_DEVICES
ESKETAMINE_DEVICE_WAIT = timedelta(minutes=5)  # SRC_DEVICES
ESKETAMINE_MIN_MONITORING = timedelta(minutes=120)  # SRC_MONITORING


@dataclass(frozen=True)
class IvDose:
    """Weight-based IV infusion: ``total_mg`` = mg/kg × kg, given at ``rate_mg_per_h`` over ``duration``."""

    weight_kg: float
    mg_per_kg: float
    duration: timedelta

    def __post_init__(self) -> None:
        WEIGHT_KG.check(self.weight_kg)
        IV_MG_PER_KG.check(self.mg_per_kg)  # the absolute ceiling (ABSOLUTE_CEILINGS)
        INFUSION_MIN.check(self.duration / timedelta(minutes=1))

    @property
    def total_mg(self) -> float:
        """Dose in mg."""
        return self.mg_per_kg * self.weight_kg

    @property
    def rate_mg_per_h(self) -> float:
        """Infusion rate in mg/h."""
        return self.total_mg / (self.duration / timedelta(hours=1))


@dataclass(frozen=True)
class ImDose:
    """Weight-based IM injection: ``total_mg`` = mg/kg × kg."""

    weight_kg: float
    mg_per_kg: float

    def __post_init__(self) -> None:
        WEIGHT_KG.check(self.weight_kg)
        IM_MG_PER_KG.check(self.mg_per_kg)  # the absolute ceiling (ABSOLUTE_CEILINGS)

    @property
    def total_mg(self) -> float:
        """Dose in mg."""
        return self.mg_per_kg * self.weight_kg


@dataclass(frozen=True)
class EsketamineDose:
    """Nasal esketamine as 28-mg devices, one every 5 minutes (SRC_DEVICES)."""

    total_mg: int

    def __post_init__(self) -> None:
        ESKETAMINE_MG.check(self.total_mg)  # the absolute ceiling (ABSOLUTE_CEILINGS)
        if self.total_mg % ESKETAMINE_DEVICE_MG:
            raise InvalidAnswerError("total_mg", f"{self.total_mg}", f"a positive multiple of {ESKETAMINE_DEVICE_MG}")

    @property
    def devices(self) -> int:
        """Number of 28-mg devices."""
        return self.total_mg // ESKETAMINE_DEVICE_MG

    def device_times(self, first: datetime) -> tuple[datetime, ...]:
        """When each device is given, starting at ``first``."""
        first = _utc(first, "first")
        return tuple(first + k * ESKETAMINE_DEVICE_WAIT for k in range(self.devices))


Dose = IvDose | ImDose | EsketamineDose


@dataclass(frozen=True)
class Override:
    """A documented reason to go on despite a limit or warning (a dose outside the clinic's limits, the timing of
    a session, vitals contradicting a discharge): why, by whom, when."""

    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class WarningAck:
    """Warnings a clinician overrode (``reason``) at a step: which, why, by whom and when; kept on the session."""

    warnings: tuple[str, ...]
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Vitals:
    """One timed set of vital signs; any may be missing but not all."""

    at: datetime
    by: str
    bp: BloodPressure | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None

    def __post_init__(self) -> None:
        if self.bp is None and self.heart_rate is None and self.spo2 is None and self.respiratory_rate is None:
            raise InvalidAnswerError(
                "vitals", "no value given", "at least one of bp, heart_rate, spo2, respiratory_rate"
            )
        for quantity in (HEART_RATE, SPO2, RESPIRATORY_RATE):
            value = getattr(self, quantity.field)
            if value is not None:
                quantity.check(value)


@dataclass(frozen=True)
class ScoreEntry:
    """A timed scale total (CADSS-6 or MOAA/S)."""

    at: datetime
    by: str
    total: int


@dataclass(frozen=True)
class AdverseEvent:
    """An adverse event in free text with its severity."""

    at: datetime
    by: str
    description: str
    severity: Severity


@dataclass(frozen=True)
class DischargeAssessment:
    """The clinician's attestation at discharge (SRC_STABLE; the resolution items are SRC_RESOLUTION)."""

    clinically_stable: bool
    sedation_resolved: bool
    dissociation_resolved: bool
    respiratory_depression_resolved: bool
    bp_decreasing_or_safe: bool


@dataclass(frozen=True)
class Transition:
    """One step of the state machine."""

    from_state: SessionState
    to_state: SessionState
    at: datetime
    by: str
    reason: str | None


@dataclass(frozen=True)
class Session:
    """One treatment session and everything recorded on it (build with :func:`new_session`)."""

    kind: SessionKind
    scheduled_at: datetime
    min_monitoring: timedelta | None
    state: SessionState = SessionState.SCHEDULED
    history: tuple[Transition, ...] = ()
    policy: PreCheckPolicy | None = None
    prechecks: PreChecks | None = None
    bp_decision: BpDecision | None = None
    dose: Dose | None = None
    override: Override | None = None
    discharge_assessment: DischargeAssessment | None = None
    vitals: tuple[Vitals, ...] = ()
    cadss6: tuple[ScoreEntry, ...] = ()
    moaas: tuple[ScoreEntry, ...] = ()
    adverse_events: tuple[AdverseEvent, ...] = ()
    acknowledged: tuple[WarningAck, ...] = ()

    def entered_at(self, state: SessionState) -> datetime | None:
        """When the session entered ``state`` (``None`` if it has not)."""
        return next((t.at for t in self.history if t.to_state is state), None)

    @property
    def bp_gate_open(self) -> bool:
        """Whether the pre-dose BP is above the gate and still needs a documented decision."""
        if self.prechecks is None or self.policy is None:
            return False
        return self.prechecks.bp.above(self.policy.bp_gate) and self.bp_decision is None


def new_session(kind: SessionKind, scheduled_at: datetime, min_monitoring: timedelta | None = None) -> Session:
    """A scheduled session. Esketamine monitoring is at least 120 min (SRC_MONITORING); for IV/IM clinical.md
    gives no minimum, so ``None`` means no time rule and a clinic may set one."""
    if kind is SessionKind.ESKETAMINE:
        min_monitoring = ESKETAMINE_MIN_MONITORING if min_monitoring is None else min_monitoring
        if min_monitoring < ESKETAMINE_MIN_MONITORING:
            raise InvalidAnswerError("min_monitoring", f"{min_monitoring}", ">= 2:00:00 for esketamine")
    elif min_monitoring is not None and min_monitoring < timedelta(0):
        raise InvalidAnswerError("min_monitoring", f"{min_monitoring}", ">= 0")
    return Session(kind=kind, scheduled_at=_utc(scheduled_at, "scheduled_at"), min_monitoring=min_monitoring)


def _check_in_criteria(session: Session, at: datetime) -> list[str]:
    pre, policy = session.prechecks, session.policy
    if pre is None or policy is None:
        return ["no pre-checks recorded (use check_in)"]
    unmet = []
    if not pre.consent:
        unmet.append(f"consent not documented ({SRC_CONSENT})")
    if policy.ride_home_required and not pre.ride_home:
        unmet.append(f"no ride home ({SRC_RIDE_HOME})")
    if pre.pregnancy_test is PregnancyTest.POSITIVE:
        unmet.append(f"positive pregnancy test ({SRC_PREGNANCY})")
    if policy.pregnancy_test_required and pre.pregnancy_test is PregnancyTest.NOT_DONE:
        unmet.append("pregnancy test required by clinic policy but not done")
    for name, fast, when in (
        ("last_food_at", policy.food_fast, pre.last_food_at),
        ("last_liquid_at", policy.liquid_fast, pre.last_liquid_at),
    ):
        if fast is not None and when is None:
            unmet.append(f"{name} not recorded ({SRC_FASTING})")
        elif when is not None and when > at:
            unmet.append(f"{name} {when.isoformat()} is after check-in")
    return unmet


def _dosing_criteria(session: Session, at: datetime) -> list[str]:
    pre, policy = session.prechecks, session.policy
    unmet = []
    if session.dose is None:
        unmet.append("no dose recorded (use start_dosing)")
    if pre is not None and policy is not None:
        if session.bp_gate_open:
            unmet.append(f"pre-dose BP {pre.bp} above {policy.bp_gate} needs a documented decision ({SRC_BP_GATE})")
        elif session.bp_decision is not None and not session.bp_decision.proceed:
            unmet.append(f"BP decision was to delay: {session.bp_decision.reason}")
        for name, fast, when in (
            ("food", policy.food_fast, pre.last_food_at),
            ("liquids", policy.liquid_fast, pre.last_liquid_at),
        ):
            if fast is not None and when is not None and at - when < fast:
                unmet.append(f"{name} {at - when} before dosing, need >= {fast} ({SRC_FASTING})")
    return unmet


def _monitoring_criteria(session: Session, at: datetime) -> list[str]:
    started = session.entered_at(SessionState.DOSING)
    if isinstance(session.dose, EsketamineDose) and started is not None:
        end = started + session.dose.devices * ESKETAMINE_DEVICE_WAIT
        if at < end:
            return [f"last device wait ends at {end.isoformat()} ({SRC_DEVICES})"]
    return []


def _discharge_criteria(session: Session, at: datetime) -> list[str]:
    unmet = []
    started = session.entered_at(SessionState.DOSING)
    if session.min_monitoring is not None and started is not None and at - started < session.min_monitoring:
        unmet.append(
            f"monitored {at - started} since first dose, need >= {session.min_monitoring}"
            + (f" ({SRC_MONITORING})" if session.kind is SessionKind.ESKETAMINE else " (clinic setting)")
        )
    a = session.discharge_assessment
    if a is None or not a.clinically_stable:
        unmet.append(f"not assessed as clinically stable ({SRC_STABLE})")
    if session.kind is SessionKind.ESKETAMINE:
        if a is not None:
            for ok, what in (
                (a.sedation_resolved, "sedation"),
                (a.dissociation_resolved, "dissociation"),
                (a.respiratory_depression_resolved, "respiratory depression"),
                (a.bp_decreasing_or_safe, "BP not decreasing / not at a safe level"),
            ):
                if not ok:
                    unmet.append(f"{what} not resolved ({SRC_RESOLUTION})")
        after = [v for v in session.vitals if started is not None and v.at >= started]
        if not any(v.spo2 is not None for v in after):
            unmet.append(f"no pulse oximetry after dosing ({SRC_PULSE_OX})")
        if not any(v.bp is not None for v in after):
            unmet.append(f"no BP after dosing ({SRC_BP_AFTER})")
    return unmet


_CRITERIA = {
    SessionState.CHECKED_IN: _check_in_criteria,
    SessionState.DOSING: _dosing_criteria,
    SessionState.MONITORING: _monitoring_criteria,
    SessionState.DISCHARGED: _discharge_criteria,
}


def _require_step(session: Session, to_state: SessionState) -> None:
    if to_state not in ALLOWED_TRANSITIONS[session.state]:
        raise InvalidTransitionError(session.state, to_state)


def transition(session: Session, to_state: SessionState, at: datetime, by: str, reason: str | None = None) -> Session:
    """Move to ``to_state`` if the state machine allows it and its criteria hold on the recorded data.

    Raises :class:`InvalidTransitionError` for an illegal step and :class:`UnmetCriteriaError` naming every unmet
    criterion. Stopping needs a reason; time may not run backwards.
    """
    _require_step(session, to_state)
    at = _utc(at, "at")
    _who(by, "by")
    if to_state is SessionState.STOPPED:
        _who(reason or "", "reason")
    if session.history and at < session.history[-1].at:
        raise InvalidAnswerError("at", f"{at.isoformat()} is before the last step", f">= {session.history[-1].at}")
    check = _CRITERIA.get(to_state)
    unmet = check(session, at) if check else []
    if unmet:
        raise UnmetCriteriaError(to_state, tuple(unmet))
    step = Transition(session.state, to_state, at, by, reason)
    return replace(session, state=to_state, history=(*session.history, step))


def _validate_policy(kind: SessionKind, policy: PreCheckPolicy) -> None:
    """Esketamine policies may be stricter than the label, never looser."""
    if kind is not SessionKind.ESKETAMINE:
        return
    if not policy.ride_home_required:
        raise InvalidAnswerError("policy.ride_home_required", "False", f"True for esketamine ({SRC_RIDE_HOME})")
    if policy.bp_gate.above(ESKETAMINE_BP_GATE):
        raise InvalidAnswerError("policy.bp_gate", str(policy.bp_gate), f"<= {ESKETAMINE_BP_GATE} ({SRC_BP_GATE})")
    for name, fast, label in (
        ("policy.food_fast", policy.food_fast, ESKETAMINE_FOOD_FAST),
        ("policy.liquid_fast", policy.liquid_fast, ESKETAMINE_LIQUID_FAST),
    ):
        if fast is None or fast < label:
            raise InvalidAnswerError(name, str(fast), f">= {label} ({SRC_FASTING})")


_OPEN_STATES = frozenset({SessionState.CHECKED_IN, SessionState.DOSING, SessionState.MONITORING})


def _no_concurrent_session(others: Sequence[Session]) -> None:
    open_ = [o for o in others if o.state in _OPEN_STATES]
    if open_:
        o = open_[0]
        raise ConcurrentSessionError(
            f"another session of this patient ({o.kind.value}, scheduled {o.scheduled_at.isoformat(timespec='minutes')}"
            f") is still {o.state.value}: discharge or stop it first; two sessions never run at once"
        )


def timing_warnings(
    session: Session, others: Sequence[Session], at: datetime, timing: TimingPolicy, *, dosing: bool
) -> list[str]:
    """What is unusual about running ``session`` at ``at``: far from its scheduled time (SRC_SCHEDULE_TOLERANCE)
    and, when ``dosing``, a dose of the same drug and route less than the minimum interval from another one
    (SRC_DOSE_INTERVAL). Raises :class:`ConcurrentSessionError` if another session is open."""
    _no_concurrent_session(others)
    at = _utc(at, "at")
    warnings = []
    drift = at - session.scheduled_at
    if abs(drift) > timing.schedule_tolerance:
        warnings.append(
            f"run {'before' if drift < timedelta(0) else 'after'} its scheduled time "
            f"{session.scheduled_at.isoformat(timespec='minutes')} by {abs(drift)} (clinic tolerance "
            f"{timing.schedule_tolerance})"
        )
    if dosing:
        for other in others:
            dosed = other.entered_at(SessionState.DOSING)
            if other.kind is session.kind and dosed is not None and abs(at - dosed) < timing.min_dose_interval:
                warnings.append(
                    f"another {session.kind.value} dose was given at {dosed.isoformat(timespec='minutes')}, "
                    f"{abs(at - dosed)} apart (clinic minimum {timing.min_dose_interval})"
                )
    return warnings


def _acknowledge(session: Session, warnings: Sequence[str], override: Override | None, step: str) -> Session:
    """The session with ``warnings`` overridden by ``override``; raises :class:`OverrideRequiredError` without one."""
    done = {w for ack in session.acknowledged for w in ack.warnings}
    pending = tuple(w for w in warnings if w not in done)
    if not pending:
        return session
    if override is None:
        raise OverrideRequiredError(f"{step} needs an override (reason, by whom): " + "; ".join(pending), pending)
    ack = WarningAck(pending, _who(override.reason, "override.reason"), _who(override.by, "override.by"),
                     _utc(override.at, "override.at"))  # fmt: skip
    return replace(session, acknowledged=(*session.acknowledged, ack))


def check_in(
    session: Session,
    prechecks: PreChecks,
    policy: PreCheckPolicy,
    at: datetime,
    by: str,
    *,
    others: Sequence[Session] = (),
    timing: TimingPolicy | None = None,
    override: Override | None = None,
) -> Session:
    """Record the pre-checks under ``policy`` and check in; raises naming every missing mandatory pre-check.

    ``others`` are the patient's other sessions: none may be open (:class:`ConcurrentSessionError`), and a check-in
    far from the scheduled time (``timing``, default :class:`TimingPolicy`) needs an ``override``, recorded.
    """
    _require_step(session, SessionState.CHECKED_IN)
    _validate_policy(session.kind, policy)
    warnings = timing_warnings(session, others, at, timing or TimingPolicy(), dosing=False)
    prechecks = replace(
        prechecks,
        last_food_at=None if prechecks.last_food_at is None else _utc(prechecks.last_food_at, "last_food_at"),
        last_liquid_at=None if prechecks.last_liquid_at is None else _utc(prechecks.last_liquid_at, "last_liquid_at"),
    )
    checked = transition(replace(session, prechecks=prechecks, policy=policy), SessionState.CHECKED_IN, at, by)
    return _acknowledge(checked, warnings, override, "check-in")


def decide_bp(session: Session, proceed: bool, reason: str, by: str, at: datetime) -> Session:
    """Document the decision on an elevated pre-dose BP (SRC_BP_GATE: a soft gate, decided case by case)."""
    if session.state is not SessionState.CHECKED_IN:
        raise InvalidAnswerError("state", f"BP decision in {session.state.value}", SessionState.CHECKED_IN.value)
    if not session.bp_gate_open:
        raise InvalidAnswerError("bp_decision", "pre-dose BP is not above the gate or already decided")
    decision = BpDecision(proceed, _who(reason, "reason"), _who(by, "by"), _utc(at, "at"))
    return replace(session, bp_decision=decision)


def _dose_value(dose: Dose) -> tuple[float, str]:
    if isinstance(dose, EsketamineDose):
        return float(dose.total_mg), "mg"
    return dose.mg_per_kg, "mg/kg"


_DOSE_TYPES: dict[SessionKind, type[IvDose] | type[ImDose] | type[EsketamineDose]] = {
    SessionKind.IV_KETAMINE: IvDose,
    SessionKind.IM_KETAMINE: ImDose,
    SessionKind.ESKETAMINE: EsketamineDose,
}
_DEFAULT_LIMITS = {SessionKind.IV_KETAMINE: IV_DOSE_LIMITS_ANDRADE, SessionKind.ESKETAMINE: ESKETAMINE_DOSE_LIMITS}


def start_dosing(
    session: Session,
    dose: Dose,
    at: datetime,
    by: str,
    limits: DoseLimits | None = None,
    override: Override | None = None,
    *,
    others: Sequence[Session] = (),
    timing: TimingPolicy | None = None,
) -> Session:
    """Record the dose and start dosing (for esketamine ``at`` is the first device).

    ``limits`` defaults to Andrade 2017 for IV and the label doses for esketamine; IM has no default
    (clinical.md §1b 'IM ketamine dosing norms' is UNVERIFIED). A dose outside the limits needs an
    :class:`Override`, which is recorded; no override passes the absolute ceiling (:data:`ABSOLUTE_CEILINGS`).
    ``others`` are the patient's other sessions: none may be open, and a dose of the same drug and route closer
    than ``timing.min_dose_interval`` to another needs the override too. Raises if the BP gate is open.
    """
    _require_step(session, SessionState.DOSING)
    expected = _DOSE_TYPES[session.kind]
    if not isinstance(dose, expected):
        raise InvalidAnswerError("dose", f"{type(dose).__name__} for {session.kind.value}", expected.__name__)
    if limits is None:
        limits = _DEFAULT_LIMITS.get(session.kind)
    if limits is None:
        raise InvalidAnswerError("limits", f"no default for {session.kind.value}", "clinic DoseLimits")
    value, unit = _dose_value(dose)
    if unit != limits.unit:
        raise InvalidAnswerError("limits.unit", limits.unit, unit)
    check_limits(session.kind, limits)
    ceiling = ABSOLUTE_CEILINGS[session.kind]
    if not math.isfinite(value) or value > ceiling.high:  # also checked by the dose itself
        raise InvalidAnswerError(
            ceiling.field,
            f"{value:g} {unit} is above the absolute ceiling; no override passes it",
            f"<= {ceiling.high:g} {unit} ({SRC_CEILING})",
        )
    warnings = timing_warnings(session, others, at, timing or TimingPolicy(), dosing=True)
    if override is not None:
        reason, who = _who(override.reason, "override.reason"), _who(override.by, "override.by")
        override = Override(reason, who, _utc(override.at, "override.at"))
    elif not limits.low <= value <= limits.high:
        raise OverrideRequiredError(
            f"dose {value:g} {unit} is outside the hard limits {limits.low:g}-{limits.high:g} {unit}; "
            "an Override(reason, by, at) is required"
        )
    dosed = transition(replace(session, dose=dose, override=override), SessionState.DOSING, at, by)
    return _acknowledge(dosed, warnings, override, "dosing")


def discharge_findings(session: Session, at: datetime, ranges: DischargeRanges) -> list[str]:
    """Where the recorded vitals contradict a discharge at ``at``: the latest BP, SpO2 and respiratory rate must
    be recent (``ranges.vitals_max_age_min``) and within ``ranges`` (SRC_DISCHARGE_*)."""
    at = _utc(at, "at")
    since = at - timedelta(minutes=ranges.vitals_max_age_min)
    readings = sorted((v for v in session.vitals if v.at <= at), key=lambda v: v.at)
    findings = []
    for name, label in (("bp", "BP"), ("spo2", "SpO2"), ("respiratory_rate", "respiratory rate")):
        latest = next((v for v in reversed(readings) if getattr(v, name) is not None), None)
        if latest is None or latest.at < since:
            findings.append(f"no {label} recorded in the {ranges.vitals_max_age_min} min before discharge")
        elif latest.spo2 is not None and name == "spo2" and latest.spo2 < ranges.spo2_min:
            findings.append(f"latest SpO2 {latest.spo2}% is below {ranges.spo2_min}%")
        elif (name == "respiratory_rate" and latest.respiratory_rate is not None
              and latest.respiratory_rate < ranges.respiratory_rate_min):  # fmt: skip
            findings.append(f"latest respiratory rate {latest.respiratory_rate}/min is below "
                            f"{ranges.respiratory_rate_min}/min")  # fmt: skip
        elif name == "bp" and latest.bp is not None and session.prechecks is not None:
            before = session.prechecks.bp.systolic
            if latest.bp.systolic > before * (1 + ranges.systolic_rise_max_pct / 100):
                findings.append(f"latest BP {latest.bp} is more than {ranges.systolic_rise_max_pct}% above the "
                                f"pre-dose {session.prechecks.bp}")  # fmt: skip
    return findings


def discharge(
    session: Session,
    assessment: DischargeAssessment,
    at: datetime,
    by: str,
    *,
    ranges: DischargeRanges | None = None,
    override: Override | None = None,
) -> Session:
    """Record the discharge assessment and discharge; raises :class:`UnmetCriteriaError` naming unmet criteria.

    The attestation is checked against the recorded vitals (:func:`discharge_findings`, default
    :class:`DischargeRanges`): vitals that contradict it need an ``override`` with a reason, recorded.
    """
    _require_step(session, SessionState.DISCHARGED)
    assessed = replace(session, discharge_assessment=assessment)
    unmet = _discharge_criteria(assessed, _utc(at, "at"))
    if unmet:
        raise UnmetCriteriaError(SessionState.DISCHARGED, tuple(unmet))
    findings = discharge_findings(session, at, ranges or DischargeRanges())
    done = transition(assessed, SessionState.DISCHARGED, at, by)
    return _acknowledge(done, findings, override, "discharge")


def stop(session: Session, reason: str, at: datetime, by: str) -> Session:
    """Stop the session early (from checked_in, dosing or monitoring) with a reason."""
    return transition(session, SessionState.STOPPED, at, by, reason)


def _entry_time(session: Session, at: datetime, what: str) -> datetime:
    if session.state not in _ENTRY_STATES:
        allowed = ", ".join(sorted(s.value for s in _ENTRY_STATES))
        raise InvalidAnswerError("state", f"cannot record {what} in {session.state.value}", allowed)
    at = _utc(at, "at")
    checked_in = session.entered_at(SessionState.CHECKED_IN)
    if checked_in is not None and at < checked_in:
        raise InvalidAnswerError("at", f"{at.isoformat()} is before check-in", f">= {checked_in.isoformat()}")
    return at


def record_vitals(session: Session, vitals: Vitals) -> Session:
    """Add one timed set of vital signs (plausibility-checked on construction)."""
    vitals = replace(vitals, at=_entry_time(session, vitals.at, "vitals"), by=_who(vitals.by, "by"))
    return replace(session, vitals=(*session.vitals, vitals))


def record_cadss6(session: Session, total: int, at: datetime, by: str) -> Session:
    """Add a CADSS-6 total (SRC_CADSS6)."""
    total_range = SCALES["CADSS-6"].total_range
    assert total_range is not None
    if not total_range[0] <= total <= total_range[1]:
        raise InvalidAnswerError("cadss6", f"{total}", f"{total_range[0]}-{total_range[1]}")
    entry = ScoreEntry(_entry_time(session, at, "CADSS-6"), _who(by, "by"), total)
    return replace(session, cadss6=(*session.cadss6, entry))


def record_moaas(session: Session, score: int, at: datetime, by: str) -> Session:
    """Add a MOAA/S score, 0 (loss of consciousness) to 5 (SRC_MOAAS; the top value 5 is the scale's standard
    form, not stated in clinical.md)."""
    if not 0 <= score <= 5:
        raise InvalidAnswerError("moaas", f"{score}", "0-5")
    entry = ScoreEntry(_entry_time(session, at, "MOAA/S"), _who(by, "by"), score)
    return replace(session, moaas=(*session.moaas, entry))


def record_adverse_event(session: Session, description: str, severity: Severity, at: datetime, by: str) -> Session:
    """Add an adverse event (free text and severity)."""
    at = _entry_time(session, at, "adverse event")
    event = AdverseEvent(at, _who(by, "by"), _who(description, "description"), severity)
    return replace(session, adverse_events=(*session.adverse_events, event))
