"""Fit the response model's population parameters to published trial results.

Targets and arms live in ``data/calibration_targets.yaml``. Each arm gets its own seeded virtual
population (common random numbers across evaluations); PK and occupancy are computed once per arm,
so an evaluation only re-runs the plasticity kernel. The objective is
sum(((model - target) / tolerance)^2) over the targets not marked ``held_out``; a bounded Powell
search minimises it. ``ketamine-therapy calibrate`` runs this and writes ``data/response_model.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
from scipy.optimize import minimize

from .._data import load
from .._typing import FloatArray
from .arms import Arm, VirtualPopulation, sample_population, session_stimulus, simulate_arm
from .course import ArmCourse
from .endpoints import (
    change_from_baseline,
    kaplan_meier_median,
    remission_rate,
    response_rate,
    time_to_relapse_days,
)
from .parameters import ResponseParameters, load_parameters

RELAPSE_HORIZON_DAYS = 120
# Search bounds on the fitted scale (log for positive rates and times, raw for logits).
BOUNDS: dict[str, tuple[float, float]] = {
    "occupancy50": (np.log(0.02), np.log(0.9)),
    "hill": (np.log(0.5), np.log(6.0)),
    "k_on_per_h": (np.log(0.05), np.log(50.0)),
    "emax_logit_mean": (-3.0, 4.0),
    "emax_logit_sd": (np.log(0.05), np.log(4.0)),
    "k_off_log_mean": (np.log(1 / (24 * 200)), np.log(1 / 6)),
    "k_off_log_sd": (np.log(0.05), np.log(3.0)),
    "expectancy_acute": (-6.0, 2.0),  # logit
    "expectancy_half_life_h": (np.log(0.5), np.log(96.0)),
    "nonspecific_logit_mean": (-6.0, 2.0),
    "nonspecific_logit_sd": (np.log(0.05), np.log(3.0)),
    "nonspecific_onset_days": (np.log(0.2), np.log(30.0)),
    "background_logit_mean": (-6.0, 3.0),
    "background_logit_sd": (np.log(0.05), np.log(3.0)),
}
LOG_SCALE = {"occupancy50", "hill", "k_on_per_h", "emax_logit_sd", "k_off_log_sd", "expectancy_half_life_h",
             "nonspecific_logit_sd", "nonspecific_onset_days", "background_logit_sd"}  # fmt: skip
LOGIT_SCALE = {"expectancy_acute"}
FIXED = ("background_onset_days",)


@dataclass(frozen=True)
class Row:
    """One target compared with the model."""

    id: str
    target: float
    model: float
    tolerance: float
    held_out: bool
    source: str

    @property
    def passed(self) -> bool:
        """Within tolerance."""
        return abs(self.model - self.target) <= self.tolerance


def _arm(name: str, spec: dict[str, Any]) -> Arm:
    return Arm(
        name=name,
        drug=spec["drug"],
        days=tuple(float(d) for d in spec["days"]),
        route=spec.get("route"),
        dose_mg=spec.get("dose_mg"),
        dose_mg_per_kg=spec.get("dose_mg_per_kg"),
        doses_mg=tuple(float(x) for x in spec["doses_mg"]) if "doses_mg" in spec else None,
        duration_min=float(spec.get("duration_min", 0.0)),
        background=spec.get("background"),
    )


class Calibration:
    """Targets, arms, their virtual populations and cached occupancy."""

    def __init__(self, n_per_arm: int = 1000, seed: int = 20261121) -> None:
        self.data = load("calibration_targets.yaml")
        self.n = n_per_arm
        self.seed = seed
        self.arms = {name: _arm(name, spec) for name, spec in self.data["arms"].items()}
        self.targets: list[dict[str, Any]] = list(self.data["targets"])
        self.orderings: list[dict[str, Any]] = list(self.data.get("orderings", []))

    def _eval_times_h(self, arm: str) -> FloatArray:
        times = [0.0]
        for t in self.targets + self.orderings:
            if arm in (t.get("arm"), t.get("better"), t.get("worse")):
                if t["kind"] == "relapse_median_days":
                    start = float(t["from_day"]) * 24.0
                    times += list(start + 24.0 * np.arange(RELAPSE_HORIZON_DAYS + 1))
                else:
                    times.append(float(t["day"]) * 24.0)
        return np.unique(np.round(np.array(times), 6))

    @cached_property
    def _prepared(self) -> dict[str, tuple[VirtualPopulation, FloatArray, FloatArray]]:
        pop = self.data["population"]
        prepared = {}
        for k, (name, arm) in enumerate(self.arms.items()):
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(k,)))
            models = [arm.pk_model()] if arm.is_active else []
            population = sample_population(
                self.n,
                rng,
                baseline_madrs=tuple(pop["baseline_madrs"]),
                weight_kg=tuple(pop["weight_kg"]),
                age_y=tuple(pop["age_y"]),
                models=models,
            )
            times = self._eval_times_h(name)
            prepared[name] = (population, times, session_stimulus(arm, population))
        return prepared

    def courses(self, params: ResponseParameters) -> dict[str, ArmCourse]:
        """The MADRS course of every calibration arm under ``params``."""
        out = {}
        for name, (population, times, occupancy) in self._prepared.items():
            out[name] = simulate_arm(self.arms[name], population, times, params, stimulus=occupancy)
        return out

    @staticmethod
    def _measure(course: ArmCourse, t: dict[str, Any]) -> float:
        kind = t["kind"]
        if kind == "relapse_median_days":
            days, event = time_to_relapse_days(course, float(t["from_day"]) * 24.0)
            offset = float(t["from_day"]) - float(t.get("clock_from_day", t["from_day"]))  # counted from last dose
            return min(kaplan_meier_median(days, event) + offset, float(RELAPSE_HORIZON_DAYS))
        at = float(t["day"]) * 24.0
        if kind == "response":
            return float(response_rate(course, at).mean())
        if kind == "remission":
            return float(remission_rate(course, at, float(t["threshold"])).mean())
        return float(change_from_baseline(course, at).mean())

    def rows(self, params: ResponseParameters) -> list[Row]:
        """Every target with the model's value under ``params``."""
        courses = self.courses(params)
        rows = [
            Row(
                t["id"],
                float(t["value"]),
                self._measure(courses[t["arm"]], t),
                float(t["tolerance"]),
                bool(t.get("held_out", False)),
                str(t["source"]),
            )
            for t in self.targets
        ]
        for o in self.orderings:
            better = self._measure(courses[o["better"]], o)
            worse = self._measure(courses[o["worse"]], o)
            # an ordering holds when the better arm's change is more negative: encoded as margin >= 0
            rows.append(Row(o["id"], 0.0, worse - better, float("inf"), True, str(o["source"])))
        return rows

    def objective(self, params: ResponseParameters) -> float:
        """Sum of squared standardised errors over fitted targets."""
        return float(sum(((r.model - r.target) / r.tolerance) ** 2 for r in self.rows(params) if not r.held_out))


def _to_vector(params: ResponseParameters) -> FloatArray:
    values = params.as_dict()
    out = []
    for name in BOUNDS:
        v = values[name]
        out.append(np.log(v) if name in LOG_SCALE else np.log(v / (1 - v)) if name in LOGIT_SCALE else v)
    return np.array(out)


def _from_vector(x: FloatArray, template: ResponseParameters) -> ResponseParameters:
    values = template.as_dict()
    for name, v in zip(BOUNDS, x, strict=True):
        values[name] = float(np.exp(v) if name in LOG_SCALE else 1 / (1 + np.exp(-v)) if name in LOGIT_SCALE else v)
    return ResponseParameters.from_mapping(values)


def fit(
    calibration: Calibration,
    start: ResponseParameters | None = None,
    max_evaluations: int = 3000,
    progress: Callable[[int, float], None] | None = None,
) -> tuple[ResponseParameters, float]:
    """Minimise the objective from ``start`` (default: the shipped parameters)."""
    template = start or load_parameters()
    best = [np.inf]
    count = [0]

    def f(x: FloatArray) -> float:
        value = calibration.objective(_from_vector(x, template))
        count[0] += 1
        best[0] = min(best[0], value)
        if progress is not None:
            progress(count[0], best[0])
        return value

    x0 = np.clip(_to_vector(template), [b[0] for b in BOUNDS.values()], [b[1] for b in BOUNDS.values()])
    result = minimize(
        f,
        x0,
        method="Powell",
        bounds=list(BOUNDS.values()),
        options={"maxfev": max_evaluations, "xtol": 1e-3, "ftol": 1e-4},
    )
    fitted = _from_vector(result.x, template)
    return fitted, calibration.objective(fitted)


def parameters_document(params: ResponseParameters, calibration: Calibration, objective: float) -> dict[str, Any]:
    """The YAML document written to ``data/response_model.yaml``."""
    return {
        "version": datetime.now(UTC).strftime("%Y-%m-%d"),
        "calibrated_with": {
            "n_per_arm": calibration.n,
            "seed": calibration.seed,
            "objective": round(objective, 4),
            "targets": "data/calibration_targets.yaml",
        },
        "parameters": {f.name: float(f"{getattr(params, f.name):.6g}") for f in fields(params)},
    }
