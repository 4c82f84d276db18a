"""Use case: simulate a dosing scenario and summarise exposure (typical subject + population)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import DISCLAIMER as DISCLAIMER  # re-exported: the charts, the pages and the report carry it
from ..pharmacology import (
    Covariates,
    Dose,
    PKModel,
    Regimen,
    Route,
    simulate,
    simulate_chunks,
    summary,
    units,
)
from ..pharmacology.exceptions import InvalidInputError
from ..pharmacology.simulate import ProgressCallback, SimulationResult, resolve_model

# Defaults the reference gives: IV racemic 0.5 mg/kg over 40 min (clinical.md, Andrade 2017);
# Spravato day-1 dose 56 mg (SPRAVATO label).
DEFAULT_DOSES: dict[tuple[str, Route], tuple[str, float, float]] = {
    ("racemic-ketamine", Route.IV): ("mg_per_kg", 0.5, 40.0),
    ("esketamine", Route.INTRANASAL): ("mg", 56.0, 0.0),
}
DEFAULT_ROUTES = {
    "racemic-ketamine": Route.IV,
    "esketamine": Route.INTRANASAL,
    "s-ketamine": Route.IV,
}


@dataclass(frozen=True)
class Scenario:
    """What to simulate: drug, route, dose, schedule, subject, window."""

    drug: str = "racemic-ketamine"
    route: Route | None = None
    dose_mg: float | None = None
    dose_mg_per_kg: float | None = None
    duration_min: float | None = None
    days: Sequence[int] = (1,)
    weight_kg: float = 70.0
    age_y: float = 40.0
    female: bool = False
    hours: float | None = None
    step_min: float | None = None
    model: str | None = None
    n: int = 0
    seed: int | None = None
    extrapolate: bool = False

    def resolved_model(self) -> PKModel:
        """The model: ``model`` if given, else the drug's default."""
        return resolve_model(self.model, self.drug)

    def regimen(self) -> Regimen:
        """The dosing regimen this scenario describes."""
        route = self.route or DEFAULT_ROUTES.get(self.drug, Route.IV)
        model = self.resolved_model()
        if route not in model.routes:
            raise InvalidInputError(
                "route", f"{route.value} is not modelled for {model.drug} by {model.id}",
                ", ".join(r.value for r in model.routes),
            )  # fmt: skip
        duration = self.duration_min
        amount_mg, per_kg = self.dose_mg, self.dose_mg_per_kg
        if amount_mg is None and per_kg is None:
            default = DEFAULT_DOSES.get((self.drug, route))
            if default is None:
                raise InvalidInputError(
                    "dose",
                    f"no default dose for {self.drug} by {route.value}",
                    "--dose-mg or --dose-mg-per-kg",
                )
            kind, value, default_duration = default
            amount_mg, per_kg = (value, None) if kind == "mg" else (None, value)
            duration = default_duration if duration is None else duration
        if route is not Route.IV and duration:
            raise InvalidInputError("duration_min", f"only IV doses are infused, not {route.value}", "0 or omit")
        if duration is None:
            duration = 40.0 if route is Route.IV else 0.0
        dose = Dose(0.0, route, amount_mg=amount_mg, amount_mg_per_kg=per_kg, duration_h=duration / 60.0)
        return Regimen.on_days(dose, self.days)

    def times_h(self) -> np.ndarray:
        """Output grid from the first dose to the end of the window."""
        hours = self.hours if self.hours is not None else (max(self.days) - 1) * 24.0 + 24.0
        if not np.isfinite(hours) or hours <= 0 or hours > 24 * 366:
            raise InvalidInputError("hours", f"got {hours}", "0 < hours <= 8784")
        step = self.step_min if self.step_min is not None else (1.0 if hours <= 48 else 5.0)
        if not np.isfinite(step) or step <= 0 or hours * 60.0 / step > 200_000:
            raise InvalidInputError("step_min", f"got {step}", "> 0 and at most 200,000 output points")
        n_points = int(np.floor(hours * 60.0 / step + 1e-9)) + 1
        return np.arange(n_points) * (step / 60.0)

    def covariates(self, n: int = 1) -> Covariates:
        """``n`` subjects with this scenario's covariates."""
        return Covariates.typical(n, weight_kg=self.weight_kg, age_y=self.age_y, female=self.female)


@dataclass(frozen=True)
class PKReport:
    """Typical-subject exposure and, with a population, its percentiles."""

    scenario: Scenario
    model: PKModel
    typical: SimulationResult
    metrics: dict[str, dict[str, float]]
    percentiles: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    population_curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    failed_subjects: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        s = self.scenario
        analytes: dict[str, Any] = {}
        for analyte, values in self.metrics.items():
            entry: dict[str, Any] = dict(values)
            if analyte in self.percentiles:
                entry["percentiles"] = self.percentiles[analyte]
            analytes[analyte] = entry
        return {
            "model": {
                "id": self.model.id,
                "name": self.model.name,
                "reference": self.model.reference,
            },
            "drug": self.model.drug,
            "regimen": [
                {
                    "time_h": d.time_h,
                    "route": d.route.value,
                    "amount_mg": d.amount_mg,
                    "amount_mg_per_kg": d.amount_mg_per_kg,
                    "duration_h": d.duration_h,
                }
                for d in self.typical.regimen.doses
            ],
            "subject": {
                "weight_kg": s.weight_kg,
                "age_y": s.age_y,
                "sex": "female" if s.female else "male",
            },
            "window_h": float(self.typical.times_h[-1]),
            "n": s.n,
            "seed": s.seed,
            "failed_subjects": self.failed_subjects,
            "extrapolated": s.extrapolate,
            "analytes": analytes,
            "notes": self.notes,
            "disclaimer": DISCLAIMER,
        }


def _metrics(conc: np.ndarray, times: np.ndarray, analyte: str) -> dict[str, np.ndarray]:
    peak = summary.cmax(conc)
    return {
        "cmax_ng_ml": peak,
        "cmax_um": units.ng_ml_to_um(peak, analyte),
        "tmax_h": summary.tmax(conc, times),
        "auc_ng_h_ml": summary.auc(conc, times),
    }


def run_pk_report(scenario: Scenario, progress: ProgressCallback | None = None, chunk_size: int = 4096) -> PKReport:
    """Simulate ``scenario``: the typical subject, then (``n`` > 0) a population with IIV."""
    if scenario.n < 0 or scenario.n > 10_000_000:
        raise InvalidInputError("n", f"got {scenario.n}", "0-10,000,000 subjects")
    model = scenario.resolved_model()
    regimen = scenario.regimen()
    times = scenario.times_h()
    typical = simulate(
        regimen,
        times,
        model=model,
        covariates=scenario.covariates(),
        extrapolate=scenario.extrapolate,
    )
    metrics = {a: {k: float(v[0]) for k, v in _metrics(c, times, a).items()} for a, c in typical.conc_ng_ml.items()}
    notes = [f"model {model.id}: {model.reference}"]
    if scenario.extrapolate:
        notes.append("extrapolated outside the model's validated dose or population range")
    if model.id == "perez-ruixo-2021":
        notes.append(str(model.data["noresketamine_note"]).strip())
    if scenario.n == 0:
        return PKReport(scenario, model, typical, metrics, notes=notes)

    per_subject: dict[str, dict[str, list[np.ndarray]]] = {a: {} for a in model.analytes}
    bands: dict[str, list[np.ndarray]] = {a: [] for a in model.analytes}
    failed = 0
    for chunk in simulate_chunks(
        regimen, times, scenario.covariates(scenario.n), model=model, iiv=True, rng=scenario.seed,
        chunk_size=chunk_size, extrapolate=scenario.extrapolate, progress=progress,
    ):  # fmt: skip
        failed += int(np.count_nonzero(chunk.status))
        for analyte, conc in chunk.conc_ng_ml.items():
            for key, values in _metrics(conc, times, analyte).items():
                per_subject[analyte].setdefault(key, []).append(values)
            if len(bands[analyte]) * chunk_size < 20_000:  # bands from the first 20,000 subjects
                bands[analyte].append(np.array(conc, copy=True))
    percentiles = {
        a: {k: summary.percentiles(np.concatenate(v)) for k, v in metrics_.items()}
        for a, metrics_ in per_subject.items()
    }
    curves = {
        a: dict(
            zip(
                ("p5", "p50", "p95"),
                np.nanpercentile(np.concatenate(c), [5, 50, 95], axis=0),
                strict=True,
            )
        )
        for a, c in bands.items()
    }
    if failed:
        notes.append(f"{failed} subjects failed (non-finite parameters or results) and are excluded")
    return PKReport(scenario, model, typical, metrics, percentiles, curves, failed, notes)
