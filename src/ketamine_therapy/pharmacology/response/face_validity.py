"""Face-validity checks of the response model: plausible orderings over doses, routes, courses and ages.

:func:`face_validity` simulates the scenarios of issue 11 on one virtual population (common random numbers:
the same patients, random effects and rating errors in every scenario) and returns each quantity with its
Monte-Carlo SE; :func:`orderings` states the orderings that must hold. ``benchmarks/response_face_validity.py``
prints the table for the docs; ``tests/unit/pharmacology/test_response_face_validity.py`` checks the orderings.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .._typing import FloatArray
from ..models import default_model
from ..regimen import Route
from ..trials.results import relapse_proportion
from .arms import Arm, VirtualPopulation, sample_population, simulate_arm
from .course import ArmCourse
from .endpoints import kaplan_meier_median, time_to_relapse_days
from .parameters import ResponseParameters, load_parameters

VISIT_DAYS = 3.5
FOLLOW_UP_DAYS = 182.0
SERIES_DAYS = (1.0, 3.0, 5.0, 8.0, 10.0, 12.0)
TWICE_WEEKLY = (1.0, 4.0, 8.0, 11.0, 15.0, 18.0, 22.0, 25.0)
MAINTENANCE_DAYS = (*TWICE_WEEKLY, 29.0, 36.0, 43.0, 50.0, *np.arange(57.0, 113.0 + 182.0 + 1.0, 14.0).tolist())
RANDOMISED_DAY = 112.0  # after 16 weeks, as in SUSTAIN-1


@dataclass(frozen=True)
class Quantity:
    """One face-validity quantity: scenario, what is measured, value and Monte-Carlo SE, and the per-patient
    values where it is a mean over the shared patients (for paired comparisons)."""

    scenario: str
    measure: str
    value: float
    se: float
    per_patient: FloatArray | None = field(default=None, repr=False, compare=False)


def difference(smaller: Quantity, larger: Quantity) -> tuple[float, float]:
    """``larger - smaller`` and its Monte-Carlo SE (paired over the same patients where both are means over them)."""
    a, b = smaller.per_patient, larger.per_patient
    if a is not None and b is not None and a.size == b.size:
        d = b - a
        return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))
    return larger.value - smaller.value, math.hypot(smaller.se, larger.se)


def _iv(mg_per_kg: float, days: tuple[float, ...] = (1.0,)) -> Arm:
    return Arm(f"iv {mg_per_kg:g} mg/kg", "racemic-ketamine", days, dose_mg_per_kg=mg_per_kg, duration_min=40.0)


def _mean(values: FloatArray) -> tuple[float, float, FloatArray]:
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size)), values


def _responders_relapse(course: ArmCourse, from_day: float) -> tuple[FloatArray, FloatArray]:
    return time_to_relapse_days(course, from_day * 24.0)


def _relapse_quantities(scenario: str, course: ArmCourse, from_day: float) -> list[Quantity]:
    days, event = _responders_relapse(course, from_day)
    median = kaplan_meier_median(days, event)
    by28 = relapse_proportion(days, event, 28.0)
    low, high = by28.ci95
    se = 0.0 if low is None or high is None else (high - low) / 3.92
    return [
        Quantity(scenario, "median days to relapse among responders", median, float("nan")),
        Quantity(scenario, "P(relapse by day 28) among responders", float(by28.estimate or 0.0), se),
    ]


def _follow_up(from_day: float) -> FloatArray:
    return np.asarray(24.0 * (from_day + np.arange(0.0, FOLLOW_UP_DAYS + 1e-9, VISIT_DAYS)))


def face_validity(n: int = 4000, seed: int = 11, params: ResponseParameters | None = None) -> list[Quantity]:
    """Every face-validity quantity for ``n`` virtual patients (the same patients in every scenario)."""
    p = params or load_parameters()
    rng = np.random.default_rng(seed)
    racemic, esketamine = default_model("racemic-ketamine"), default_model("esketamine")
    population = sample_population(n, rng, models=[racemic, esketamine], madrs_sigma=p.madrs_sigma)
    out: list[Quantity] = []

    def run(arm: Arm, times_h: FloatArray, people: VirtualPopulation = population) -> ArmCourse:
        return simulate_arm(arm, people, np.unique(np.concatenate([[0.0], times_h])), p)

    def response(course: ArmCourse, day: float) -> tuple[float, float, FloatArray]:
        k = int(np.argmin(np.abs(course.times_h - day * 24.0)))
        return _mean((course.madrs[:, k] <= 0.5 * course.baseline).astype(np.float64))

    for dose in (0.1, 0.2, 0.5, 1.0):
        scenario = f"single IV {dose:g} mg/kg"
        course = run(_iv(dose), np.concatenate([[24.0, 168.0], _follow_up(1.0)]))
        out += [Quantity(scenario, "response day 1", *response(course, 1.0)),
                Quantity(scenario, "response day 7", *response(course, 7.0))]  # fmt: skip
        out += _relapse_quantities(scenario, course, 1.0)
    for label, days in (("IV 0.5 mg/kg x 1", (1.0,)), ("IV 0.5 mg/kg x 6 (2 weeks)", SERIES_DAYS)):
        last = days[-1]  # response 24 h after the last infusion (study day -> t = (day - 1) + 1 days)
        course = run(_iv(0.5, days), _follow_up(last))
        out += [Quantity(label, "response 24 h after the last infusion", *response(course, last))]
        out += _relapse_quantities(label, course, last)
    for dose in (28.0, 56.0, 84.0):
        scenario = f"esketamine {dose:g} mg twice weekly"
        arm = Arm(scenario, "esketamine", TWICE_WEEKLY, dose_mg=dose)
        course = run(arm, np.array([7.0, 27.0]) * 24.0)
        for day, label in ((7.0, "day 8"), (27.0, "day 28")):
            k = int(np.argmin(np.abs(course.times_h - day * 24.0)))
            out.append(Quantity(scenario, f"MADRS change {label}", *_mean(course.madrs[:, k] - course.baseline)))
            out.append(Quantity(scenario, f"response {label}", *response(course, day)))
    oral = Arm("oral 50 mg", "racemic-ketamine", (1.0,), route=Route.ORAL, dose_mg=50.0)
    out.append(Quantity("oral racemic 50 mg once", "response day 1", *response(run(oral, np.array([24.0])), 1.0)))
    for drug in ("midazolam", "placebo"):
        course = run(Arm(drug, drug, (1.0,)), np.array([24.0]))
        out.append(Quantity(f"{drug} (single session)", "response day 1", *response(course, 1.0)))
    for label, arm in (("single IV 0.5 mg/kg", _iv(0.5)), ("placebo (single session)", Arm("p", "placebo", (1.0,)))):
        course = run(arm, np.array([56.0 * 24.0]))
        out.append(Quantity(label, "MADRS change day 56", *_mean(course.madrs[:, -1] - course.baseline)))
    out += _maintenance(p, population, run)
    for age in (30.0, 70.0):
        older = sample_population(n, np.random.default_rng(seed), age_y=(age, 3.0), models=[esketamine],
                                  madrs_sigma=p.madrs_sigma)  # fmt: skip
        arm = Arm("esk", "esketamine", TWICE_WEEKLY, doses_mg=(56.0,) + (84.0,) * 7)
        course = run(arm, np.array([27.0 * 24.0]), older)
        out.append(Quantity(f"esketamine 56/84 mg, age {age:g}", "response day 28", *response(course, 27.0)))
    return out


def _maintenance(p: ResponseParameters, population: VirtualPopulation, run) -> list[Quantity]:  # type: ignore[no-untyped-def]
    """Esketamine induction and every-other-week maintenance, continued vs stopped at week 16 (placebo sprays)."""
    days = MAINTENANCE_DAYS
    stop_at = days.index(RANDOMISED_DAY + 1.0)
    continued = Arm("continued", "esketamine", days, doses_mg=(56.0,) + (84.0,) * (len(days) - 1))
    stopped_doses = (56.0,) + (84.0,) * (stop_at - 1) + (0.0,) * (len(days) - stop_at)  # 0: placebo spray
    stopped = Arm("stopped", "esketamine", days, doses_mg=stopped_doses)
    visits = 24.0 * np.arange(RANDOMISED_DAY, RANDOMISED_DAY + FOLLOW_UP_DAYS + 1e-9, 7.0)
    out = []
    for label, arm in (("maintenance continued", continued), ("maintenance stopped at week 16", stopped)):
        course = run(arm, visits)
        days_, event = time_to_relapse_days(course, RANDOMISED_DAY * 24.0, remission_threshold=12.0)
        share = relapse_proportion(days_, event, FOLLOW_UP_DAYS)
        low, high = share.ci95
        se = 0.0 if low is None or high is None else (high - low) / 3.92
        measure = "P(relapse by 6 months) among remitters at week 16"
        out.append(Quantity(label, measure, float(share.estimate or 0.0), se))
    return out


def orderings(quantities: list[Quantity]) -> list[tuple[str, Quantity, Quantity]]:
    """(statement, smaller, larger): each must hold, ``larger.value - smaller.value`` > 0 beyond MC error."""
    q = {(x.scenario, x.measure): x for x in quantities}
    out = []
    doses = ("0.1", "0.2", "0.5", "1")
    for day in ("day 1", "day 7"):
        for low, high in itertools.pairwise(doses):
            measure = f"response {day}"
            out.append((f"single IV: {measure} grows with dose ({low} < {high} mg/kg)",
                        q[f"single IV {low} mg/kg", measure], q[f"single IV {high} mg/kg", measure]))  # fmt: skip
    out.append(("single IV: 1.0 mg/kg responders relapse no faster than 0.1 mg/kg responders (by day 28)",
                q["single IV 1 mg/kg", "P(relapse by day 28) among responders"],
                q["single IV 0.1 mg/kg", "P(relapse by day 28) among responders"]))  # fmt: skip
    after_last = "response 24 h after the last infusion"
    out.append(("six infusions: more responders than one", q["IV 0.5 mg/kg x 1", after_last],
                q["IV 0.5 mg/kg x 6 (2 weeks)", after_last]))  # fmt: skip
    out.append(("six infusions: slower relapse than one (by day 28)",
                q["IV 0.5 mg/kg x 6 (2 weeks)", "P(relapse by day 28) among responders"],
                q["IV 0.5 mg/kg x 1", "P(relapse by day 28) among responders"]))  # fmt: skip
    for label in ("day 8", "day 28"):
        for low, high in (("28", "56"), ("56", "84")):
            # larger improvement = more negative change: compare the negated values
            small = q[f"esketamine {high} mg twice weekly", f"MADRS change {label}"]
            large = q[f"esketamine {low} mg twice weekly", f"MADRS change {label}"]
            out.append((f"esketamine {label}: {high} mg improves more than {low} mg", small, large))
    out.append(
        (
            "oral 50 mg once: fewer responders at day 1 than IV 0.5 mg/kg",
            q["oral racemic 50 mg once", "response day 1"],
            q["single IV 0.5 mg/kg", "response day 1"],
        )
    )
    out.append(
        (
            "midazolam: some responders at 24 h, fewer than ketamine 0.5 mg/kg",
            q["midazolam (single session)", "response day 1"],
            q["single IV 0.5 mg/kg", "response day 1"],
        )
    )
    out.append(
        (
            "midazolam: more responders at 24 h than saline placebo",
            q["placebo (single session)", "response day 1"],
            q["midazolam (single session)", "response day 1"],
        )
    )
    out.append(("maintenance: continuing prevents relapse compared with stopping",
                q["maintenance continued", "P(relapse by 6 months) among remitters at week 16"],
                q["maintenance stopped at week 16", "P(relapse by 6 months) among remitters at week 16"]))  # fmt: skip
    out.append(("age: fewer responders at 70 than at 30 years (esketamine with a new antidepressant, day 28)",
                q["esketamine 56/84 mg, age 70", "response day 28"],
                q["esketamine 56/84 mg, age 30", "response day 28"]))  # fmt: skip
    return out
