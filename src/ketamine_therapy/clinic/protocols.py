"""Treatment protocols (editable templates), session plans on real dates, and booster rules.

Every rule cites its row in ``docs/references/clinical.md``. Where that file is silent or marks a value
UNVERIFIED, nothing is assumed:

- IM ketamine dosing norms are UNVERIFIED (§1b), so the IM template has no steps and no dose; a
  clinic adds its own steps with :meth:`Protocol.with_changes`.
- clinical.md states no minimum spacing between twice-weekly sessions, so sessions only keep their
  order, fall on distinct days and stay inside their study week (the protocol's frequency is per week).
- Booster thresholds (worsening, time since the last session) are not in clinical.md and are required
  clinic parameters; only the response rule (>=50 % drop from baseline, §1d) is sourced.
- The EU/HK label's 28 mg start for age >=65 (non-US label) is not encoded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from ketamine_therapy.clinic.exceptions import ClinicError, InvalidAnswerError
from ketamine_therapy.clinic.scales import course_summary, get_scale, is_response

__all__ = [
    "IM_TEMPLATE",
    "IV_ACUTE_SERIES",
    "SPRAVATO_DEVICE_MG",
    "SPRAVATO_MDSI",
    "SPRAVATO_TRD",
    "TEMPLATES",
    "BoosterInputs",
    "BoosterRecommendation",
    "BoosterRules",
    "PlannedSession",
    "Protocol",
    "ProtocolKind",
    "ProtocolStep",
    "TreatmentPlan",
    "plan_sessions",
    "recommend_booster",
]

SPRAVATO_DEVICE_MG = 28.0
"""One Spravato device delivers 28 mg; doses change in 28 mg steps (clinical.md §1a Dose steps)."""

_SPRAVATO_DOSES_MG = (56.0, 84.0)  # clinical.md §1a: TRD 56 or 84 mg; MDSI 84 mg, may reduce to 56 mg.
_MDSI_MAX_WEEKS = 4  # clinical.md §1a MDSI: "Not studied beyond 4 weeks".
_INTEGRATION_DAYS = (1, 2, 3)  # 24-72 h after a session, same time of day (DESIGN §4; clinical.md §2a, §4).


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidAnswerError(name, f"got {value!r}", f"integer >= {minimum}")


class ProtocolKind(StrEnum):
    """What a protocol treats with, which fixes its route and label rules."""

    IV_ACUTE = "iv_acute"
    SPRAVATO_TRD = "spravato_trd"
    SPRAVATO_MDSI = "spravato_mdsi"
    IM = "im"

    @property
    def route(self) -> str:
        """Route of administration: ``iv``, ``intranasal`` or ``im``."""
        return {"iv_acute": "iv", "im": "im"}.get(self.value, "intranasal")


@dataclass(frozen=True)
class ProtocolStep:
    """A run of study weeks with the same session pattern and dose.

    Study week ``k`` covers days ``7(k-1)+1 .. 7k`` after the start (day 1 = start date). ``week_days``
    are 0-based offsets of the sessions inside each study week; the step repeats every ``every_weeks``
    weeks from ``first_week`` to ``last_week`` (``None`` = ongoing until the plan's horizon). Exactly one
    of ``dose_mg`` / ``dose_mg_per_kg``; ``first_dose_mg`` replaces the dose of the step's first session.
    """

    first_week: int
    last_week: int | None
    week_days: tuple[int, ...]
    source: str
    dose_mg: float | None = None
    dose_mg_per_kg: float | None = None
    first_dose_mg: float | None = None
    every_weeks: int = 1
    duration_min: float | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        _check_int("first_week", self.first_week, 1)
        if self.last_week is not None:
            _check_int("last_week", self.last_week, self.first_week)
        _check_int("every_weeks", self.every_weeks, 1)
        days = self.week_days
        if not days or any(isinstance(d, bool) or not isinstance(d, int) for d in days):
            raise InvalidAnswerError("week_days", f"got {days!r}", "one or more offsets 0-6")
        if any(not 0 <= d <= 6 for d in days) or list(days) != sorted(set(days)):
            raise InvalidAnswerError("week_days", f"got {days!r}", "distinct increasing offsets 0-6")
        if (self.dose_mg is None) == (self.dose_mg_per_kg is None):
            raise InvalidAnswerError("dose", "give exactly one of dose_mg or dose_mg_per_kg", "one of the two")
        for name in ("dose_mg", "dose_mg_per_kg", "first_dose_mg", "duration_min"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not _positive(value)):
                raise InvalidAnswerError(name, f"must be a positive number, got {value!r}", "> 0")
        if self.first_dose_mg is not None and self.dose_mg is None:
            raise InvalidAnswerError("first_dose_mg", "needs a step dosed in mg", "None with dose_mg_per_kg")

    def weeks(self, through_week: int) -> list[int]:
        """Study weeks of this step up to ``through_week`` (inclusive)."""
        last = through_week if self.last_week is None else min(self.last_week, through_week)
        return list(range(self.first_week, last + 1, self.every_weeks))


@dataclass(frozen=True)
class Protocol:
    """An editable protocol template; its steps are checked against the label rules of its ``kind``."""

    id: str
    name: str
    kind: ProtocolKind
    steps: tuple[ProtocolStep, ...]
    source: str
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvalidAnswerError("id", f"got {self.id!r}", "a non-empty string")
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidAnswerError("name", f"got {self.name!r}", "a non-empty string")
        try:
            object.__setattr__(self, "kind", ProtocolKind(self.kind))
        except ValueError:
            raise InvalidAnswerError("kind", f"got {self.kind!r}", ", ".join(k.value for k in ProtocolKind)) from None
        object.__setattr__(self, "steps", tuple(self.steps))
        for i, step in enumerate(self.steps):
            if not isinstance(step, ProtocolStep):
                raise InvalidAnswerError(f"steps[{i}]", f"got {step!r}", "a ProtocolStep")
            before = self.steps[i - 1].last_week if i else 0
            if before is None or step.first_week <= before:
                raise InvalidAnswerError(f"steps[{i}].first_week", "steps overlap", "after the previous step's weeks")
            self._check_step(i, step)

    def _check_step(self, i: int, step: ProtocolStep) -> None:
        kind = self.kind
        if kind is ProtocolKind.IV_ACUTE:
            # clinical.md §1b Standard dose: mg/kg infused over a set time (0.5 mg/kg over 40 min).
            if step.dose_mg_per_kg is None or step.duration_min is None:
                raise InvalidAnswerError(f"steps[{i}].dose", "IV steps need dose_mg_per_kg and duration_min", "both")
            return
        if step.duration_min is not None:
            raise InvalidAnswerError(f"steps[{i}].duration_min", f"only IV is infused ({kind.route})", "None")
        if kind is ProtocolKind.IM:
            return
        # Spravato: whole 56/84 mg doses (clinical.md §1a Dosing schedule, Dose steps, MDSI).
        for name in ("dose_mg", "first_dose_mg"):
            value = getattr(step, name)
            if (name == "dose_mg" or value is not None) and value not in _SPRAVATO_DOSES_MG:
                raise InvalidAnswerError(f"steps[{i}].{name}", f"got {value!r}", "56 or 84 mg")
        if kind is ProtocolKind.SPRAVATO_TRD and i == 0 and (step.first_dose_mg or step.dose_mg) != 56.0:
            # clinical.md §1a: "Day 1 dose 56 mg"; "84 mg only after a 56 mg start".
            raise InvalidAnswerError("steps[0].first_dose_mg", "the first TRD session must be 56 mg", "56 mg")
        if kind is ProtocolKind.SPRAVATO_MDSI and (step.last_week is None or step.last_week > _MDSI_MAX_WEEKS):
            # clinical.md §1a MDSI: "Not studied beyond 4 weeks".
            raise InvalidAnswerError(f"steps[{i}].last_week", f"got {step.last_week!r}", f"<= {_MDSI_MAX_WEEKS}")

    def with_changes(self, **changes: Any) -> Protocol:
        """A new, re-validated protocol with ``changes`` applied (same names as the fields)."""
        unknown = set(changes) - {"id", "name", "kind", "steps", "source", "notes"}
        if unknown:
            raise InvalidAnswerError(", ".join(sorted(unknown)), "not a protocol field", "id, name, kind, steps, ...")
        return replace(self, **changes)

    @property
    def last_fixed_week(self) -> int:
        """The last study week of the steps that end (0 if none)."""
        return max((s.last_week for s in self.steps if s.last_week is not None), default=0)


IV_ACUTE_SERIES = Protocol(
    id="iv-acute-series",
    name="IV racemic ketamine acute series",
    kind=ProtocolKind.IV_ACUTE,
    steps=(
        ProtocolStep(
            first_week=1,
            last_week=2,
            week_days=(0, 2, 4),
            dose_mg_per_kg=0.5,
            duration_min=40.0,
            notes="Six sessions: three a week for two weeks.",
            source="clinical.md §1b Standard dose (Andrade 2017); §1b Acute series ('six sessions over two to "
            "three weeks', 'three times per week over the course of two weeks')",
        ),
    ),
    source="clinical.md §1b",
    notes="Dose range 0.1-0.75 mg/kg (Andrade) and ASKP3 0.5-1 mg/kg over 40-60 min are described; hard dose "
    "limits belong to the session rules.",
)

SPRAVATO_TRD = Protocol(
    id="spravato-trd",
    name="Spravato (esketamine) TRD label schedule",
    kind=ProtocolKind.SPRAVATO_TRD,
    steps=(
        ProtocolStep(
            first_week=1,
            last_week=4,
            week_days=(0, 3),
            dose_mg=56.0,
            first_dose_mg=56.0,
            notes="Induction, twice weekly. Day 1 56 mg, then 56 mg or 84 mg. Evaluate benefit at the end.",
            source="clinical.md §1a Dosing schedule: Induction, weeks 1-4; Evaluate benefit; Dose steps",
        ),
        ProtocolStep(
            first_week=5,
            last_week=8,
            week_days=(0,),
            dose_mg=56.0,
            notes="Maintenance, once weekly, 56 mg or 84 mg.",
            source="clinical.md §1a Dosing schedule: Maintenance, weeks 5-8",
        ),
        ProtocolStep(
            first_week=9,
            last_week=None,
            week_days=(0,),
            every_weeks=2,
            dose_mg=56.0,
            notes="Every 2 weeks or once weekly, 56/84 mg, individualised to the least frequent dosing that "
            "keeps remission/response.",
            source="clinical.md §1a Dosing schedule: Week 9 onward",
        ),
    ),
    source="clinical.md §1a (2019 label Table 1; spravatohcp.com dosing)",
    notes="84 mg only after a 56 mg start. If depression worsens after missed doses, a return to the previous "
    "schedule may be considered (clinical.md §1a Missed doses).",
)

SPRAVATO_MDSI = Protocol(
    id="spravato-mdsi",
    name="Spravato (esketamine) MDD with acute suicidal ideation or behaviour",
    kind=ProtocolKind.SPRAVATO_MDSI,
    steps=(
        ProtocolStep(
            first_week=1,
            last_week=4,
            week_days=(0, 3),
            dose_mg=84.0,
            notes="84 mg twice weekly for 4 weeks; may reduce to 56 mg if not tolerated. Not studied beyond 4 weeks.",
            source="clinical.md §1a Dosing schedule: MDD with acute suicidal ideation/behaviour",
        ),
    ),
    source="clinical.md §1a (spravatohcp.com/mdsi; MIMS HK)",
)

IM_TEMPLATE = Protocol(
    id="im",
    name="IM ketamine (clinic-defined)",
    kind=ProtocolKind.IM,
    steps=(),
    source="clinical.md §1b IM ketamine dosing norms: UNVERIFIED",
    notes="clinical.md has no verified IM dose or schedule, so this template has no steps and no default dose. "
    "Add the clinic's own steps with with_changes(steps=...).",
)

TEMPLATES: dict[str, Protocol] = {p.id: p for p in (IV_ACUTE_SERIES, SPRAVATO_TRD, SPRAVATO_MDSI, IM_TEMPLATE)}
"""The built-in templates by id."""


@dataclass(frozen=True)
class PlannedSession:
    """One treatment session on a real date, with its integration-therapy session 24-72 h later."""

    number: int
    step: int
    study_week: int
    nominal_day: date
    day: date
    dose_mg: float | None
    dose_mg_per_kg: float | None
    duration_min: float | None
    integration_day: date


@dataclass(frozen=True)
class TreatmentPlan:
    """A protocol laid out on the calendar from ``start``."""

    protocol: Protocol
    start: date
    sessions: tuple[PlannedSession, ...]


def plan_sessions(
    protocol: Protocol,
    start: date,
    opening_days: Iterable[int],
    holidays: Iterable[date] = (),
    *,
    through_week: int | None = None,
) -> TreatmentPlan:
    """Put ``protocol``'s sessions on dates from ``start`` (study day 1).

    ``opening_days`` are weekdays the clinic is open (0 = Monday .. 6 = Sunday); ``holidays`` are closed
    dates. A session on a closed day moves to the next opening day after the previous session and must
    stay in its study week. Each session gets an integration-therapy date 1-3 days later (24-72 h,
    DESIGN §4) on an opening day. Ongoing steps run to ``through_week`` (default: the last week of the
    steps that end). Raises :class:`InvalidAnswerError` for bad inputs, :class:`ClinicError` when the
    calendar cannot hold the plan.
    """
    if not isinstance(protocol, Protocol):
        raise InvalidAnswerError("protocol", f"got {protocol!r}", "a Protocol")
    if not isinstance(start, date) or isinstance(start, datetime):
        raise InvalidAnswerError("start", f"got {start!r}", "a datetime.date")
    open_days = set(opening_days)
    if not open_days or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in open_days):
        raise InvalidAnswerError("opening_days", f"got {sorted(open_days, key=str)!r}", "weekdays 0 (Mon) - 6 (Sun)")
    closed = set(holidays)
    for day in closed:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidAnswerError("holidays", f"got {day!r}", "datetime.date values")
    if not protocol.steps:
        raise ClinicError(f"protocol {protocol.id!r} has no steps; add them with with_changes(steps=...)")
    horizon = protocol.last_fixed_week if through_week is None else through_week
    _check_int("through_week", horizon, 1)

    def is_open(day: date) -> bool:
        return day.weekday() in open_days and day not in closed

    sessions: list[PlannedSession] = []
    previous: date | None = None
    for index, step in enumerate(protocol.steps):
        dose_mg = step.dose_mg if step.first_dose_mg is None else step.first_dose_mg
        for week in step.weeks(horizon):
            week_start = start + timedelta(days=7 * (week - 1))
            for offset in step.week_days:
                nominal = week_start + timedelta(days=offset)
                earliest = nominal if previous is None else max(nominal, previous + timedelta(days=1))
                room = range((week_start + timedelta(days=7) - earliest).days)
                actual = next(
                    (earliest + timedelta(days=k) for k in room if is_open(earliest + timedelta(days=k))), None
                )
                if actual is None:
                    raise ClinicError(
                        f"session {len(sessions) + 1} (study week {week}, nominal {nominal.isoformat()}) has no "
                        "opening day left in its study week"
                    )
                integration = next(
                    (actual + timedelta(days=k) for k in _INTEGRATION_DAYS if is_open(actual + timedelta(days=k))), None
                )
                if integration is None:
                    raise ClinicError(
                        f"session {len(sessions) + 1} on {actual.isoformat()}: no opening day 24-72 h later for "
                        "integration therapy"
                    )
                sessions.append(
                    PlannedSession(
                        number=len(sessions) + 1,
                        step=index,
                        study_week=week,
                        nominal_day=nominal,
                        day=actual,
                        dose_mg=dose_mg,
                        dose_mg_per_kg=step.dose_mg_per_kg,
                        duration_min=step.duration_min,
                        integration_day=integration,
                    )
                )
                previous = actual
                dose_mg = step.dose_mg
    return TreatmentPlan(protocol, start, tuple(sessions))


@dataclass(frozen=True)
class BoosterRules:
    """Clinic thresholds for :func:`recommend_booster`; clinical.md gives none, so there are no defaults.

    Pass ``None`` to switch a rule off. ``worsening_points`` / ``worsening_percent``: how far the current
    total may rise above the best total (percent of the best total). ``max_days_since_session``: longest
    gap after the last treatment session. Loss of response (>=50 % drop from baseline no longer met,
    clinical.md §1d Response) is always checked for scales with a response rule.
    """

    worsening_points: int | None
    worsening_percent: float | None
    max_days_since_session: int | None

    def __post_init__(self) -> None:
        if self.worsening_points is not None:
            _check_int("worsening_points", self.worsening_points, 1)
        if self.max_days_since_session is not None:
            _check_int("max_days_since_session", self.max_days_since_session, 1)
        pct = self.worsening_percent
        if pct is not None and (isinstance(pct, bool) or not _positive(pct)):
            raise InvalidAnswerError("worsening_percent", f"got {pct!r}", "a number > 0")


@dataclass(frozen=True)
class BoosterInputs:
    """The values a booster recommendation was based on."""

    scale_id: str
    baseline: tuple[date, int]
    best: tuple[date, int]
    current: tuple[date, int]
    days_since_last_session: int
    rules: BoosterRules


@dataclass(frozen=True)
class BoosterRecommendation:
    """``recommend`` is true when any rule fired; ``reasons`` explain the rules that fired (or, when none
    did, why each checked rule did not)."""

    recommend: bool
    reasons: list[str]
    inputs: BoosterInputs


def recommend_booster(
    course: Sequence[tuple[date, int, str]],
    last_session: date,
    today: date,
    rules: BoosterRules,
) -> BoosterRecommendation:
    """Recommend a booster session from a scale's course (``(date, total, scale id)``, one scale only).

    Rules: worsening above the best total by ``rules.worsening_points`` or ``rules.worsening_percent``
    (clinic thresholds; a return to the previous schedule when depression worsens is in clinical.md §1a
    Missed doses); loss of response (clinical.md §1d Response, >=50 % drop from baseline); more than
    ``rules.max_days_since_session`` days since ``last_session``.
    """
    if not isinstance(rules, BoosterRules):
        raise InvalidAnswerError("rules", f"got {rules!r}", "a BoosterRules")
    for name, value in (("last_session", last_session), ("today", today)):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidAnswerError(name, f"got {value!r}", "a datetime.date")
    if last_session > today:
        raise InvalidAnswerError("last_session", f"{last_session.isoformat()} is after today", "<= today")
    if not course:
        raise InvalidAnswerError("course", "needs at least one (date, total, scale id)")
    for i, entry in enumerate(course):
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise InvalidAnswerError(f"course[{i}]", f"expected (date, total, scale id), got {entry!r}")
    scale_ids = {entry[2] for entry in course}
    if len(scale_ids) != 1:
        raise InvalidAnswerError("course", f"mixes scales {sorted(scale_ids, key=str)}", "one scale")
    scale = get_scale(scale_ids.pop())
    if any(entry[0] > today for entry in course):
        raise InvalidAnswerError("course", "has a total dated after today", "dates <= today")
    summary = course_summary(scale.id, [(d, t) for d, t, _ in course])
    base, best, current = summary.baseline[1], summary.best[1], summary.current[1]
    days = (today - last_session).days
    checks: list[tuple[bool, str]] = []
    rise = current - best
    above = f"{scale.id} {current} vs best {best} on {summary.best[0].isoformat()}"
    if rules.worsening_points is not None:
        limit = rules.worsening_points
        checks.append((rise >= limit, f"worsening: {above} is {rise} points up (threshold {limit})"))
    if rules.worsening_percent is not None and best > 0:
        pct, limit_pct = rise / best * 100, rules.worsening_percent
        checks.append((pct >= limit_pct, f"worsening: {above} is {pct:.0f}% up (threshold {limit_pct:g}%)"))
    if scale.has_response_rule and base > 0:
        lost = is_response(base, best) and not is_response(base, current)
        held = is_response(base, current)
        state = "reached and now lost" if lost else ("still met" if held else "never reached")
        checks.append(
            (lost, f"response (>=50% drop from baseline {base}, clinical.md §1d): {state}, current {current}")
        )
    if rules.max_days_since_session is not None:
        limit = rules.max_days_since_session
        checks.append((days > limit, f"{days} days since the last session (maximum {limit})"))
    fired = [text for met, text in checks if met]
    reasons = fired or [f"not met: {text}" for _, text in checks]
    inputs = BoosterInputs(scale.id, summary.baseline, summary.best, summary.current, days, rules)
    return BoosterRecommendation(bool(fired), reasons, inputs)
