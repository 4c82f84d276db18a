"""Published racemic ketamine exposures, one row per (study, regimen, analyte, metric), and how to simulate them.

Each row is either ``fitted`` (a route parameter was derived from it: F, the norketamine ratio, ka
and lag from Tmax and Cmax; see data/routes/racemic_ketamine.yaml) or ``held_out`` (nothing was
derived from it; it was never used to tune anything). Tolerances (docs/models/pharmacokinetics.md):

- Cmax and AUC: ±30% of the published mean, or, where the study's own 95% confidence interval of the
  mean is wider, that interval (stated in the row);
- Tmax of a fitted row: ±2 min (the fit's grid); held-out Tmax: the published spread (± 1 SD, or
  ×/÷ the geometric SD);
- F: ±30% (a relative quantity like AUC).

Typical 70 kg adult, no random effects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from ketamine_therapy.pharmacology import Dose, Regimen, Route, get_model, simulate, summary
from ketamine_therapy.pharmacology.exceptions import ModelDataError
from ketamine_therapy.pharmacology.models import MammillaryModel, PKModel

from ._table import CALIBRATED, PREDICTED, Tolerance

FITTED = CALIBRATED
HELD_OUT = PREDICTED
WINDOW_H = 72.0
TIMES = np.concatenate([np.arange(0.0, 2.0, 1.0 / 360.0), np.arange(2.0, WINDOW_H + 1e-9, 1.0 / 60.0)])
REL30 = Tolerance.rel(0.30)
FIT_TMAX = Tolerance.absolute(2.0 / 60.0)

PMC9118341 = "PMC9118341 (Pharmacotherapy 2022) Table 6, cancer-pain patients"
CHONG_2006 = "Chong 2006 Pain Med 7:469 (abstract table), neuropathic-pain inpatients"
IM_1984 = "Anaesthesist 1984;33:272 (PMID 6476334), adult trauma patients, medians"


@dataclass(frozen=True)
class Target:
    """One published value and the regimen that produced it."""

    key: str
    label: str
    route: Route
    dose_mg: float
    metric: str  # cmax, tmax, auc_inf, auc_0_8, nk_ratio_0_8, conc_2min, f
    analyte: str
    published: float
    unit: str
    n: str
    spread: str
    tol: Tolerance
    basis: str
    source: str
    duration_h: float = 0.0
    per_kg: bool = False
    note: str = ""


def _gsd_ci(mean: float, gsd: float, n: int) -> Tolerance:
    """±30%, or the 95% CI of a geometric mean (×/÷ exp(1.96 ln GSD / sqrt n)) when wider."""
    factor = math.exp(1.96 * math.log(gsd) / math.sqrt(n))
    return Tolerance.factor(factor) if factor > 1.3 else REL30


TARGETS: tuple[Target, ...] = (
    # -- IV infusion and bolus (disposition: nothing fitted) ---------------------------------------
    Target(
        "zarate_peak",
        "peak, 0.5 mg/kg IV over 40 min",
        Route.IV,
        0.5,
        "cmax",
        "ketamine",
        185.0,
        "ng/mL",
        "18 patients",
        "not published",
        REL30,
        HELD_OUT,
        "Zarate 2006 via Zanos 2018 Pharmacol Rev Table 1",
        duration_h=40 / 60,
        per_kg=True,
    ),
    Target(
        "bolus_2min",
        "level 2 min after 10 mg IV (the study's Cmax, Tmax 2 min)",
        Route.IV,
        10.0,
        "conc_2min",
        "ketamine",
        296.0,
        "ng/mL",
        "9",
        "GSD 1.71",
        _gsd_ci(296.0, 1.71, 9),
        HELD_OUT,
        PMC9118341,
    ),
    Target(
        "bolus_auc",
        "AUC after 10 mg IV",
        Route.IV,
        10.0,
        "auc_inf",
        "ketamine",
        113.0,
        "ng·h/mL",
        "9",
        "not published",
        REL30,
        HELD_OUT,
        PMC9118341,
    ),
    # -- intranasal: 30 mg fitted (F, Tmax, Cmax, NK ratio), 10 and 50 mg held out ------------------
    Target(
        "in30_cmax",
        "Cmax, 30 mg intranasal",
        Route.INTRANASAL,
        30.0,
        "cmax",
        "ketamine",
        60.8,
        "ng/mL",
        "10",
        "GSD 1.90",
        REL30,
        FITTED,
        PMC9118341,
    ),
    Target(
        "in30_tmax",
        "Tmax, 30 mg intranasal",
        Route.INTRANASAL,
        30.0,
        "tmax",
        "ketamine",
        14 / 60,
        "h",
        "10",
        "GSD 3.8",
        FIT_TMAX,
        FITTED,
        PMC9118341,
    ),
    Target(
        "in30_f",
        "F, 30 mg intranasal (AUC ratio to IV)",
        Route.INTRANASAL,
        30.0,
        "f",
        "ketamine",
        0.13,
        "",
        "10",
        "-",
        Tolerance.rel(0.01),
        FITTED,
        PMC9118341,
    ),
    Target(
        "in30_auc",
        "AUC, 30 mg intranasal",
        Route.INTRANASAL,
        30.0,
        "auc_inf",
        "ketamine",
        46.0,
        "ng·h/mL",
        "10",
        "not published",
        REL30,
        HELD_OUT,
        PMC9118341,
        note="F is fitted; the AUC also tests the model's CL",
    ),
    Target(
        "in30_nk_cmax",
        "norketamine Cmax, 30 mg intranasal",
        Route.INTRANASAL,
        30.0,
        "cmax",
        "norketamine",
        68.1,
        "ng/mL",
        "10",
        "GSD 1.80",
        REL30,
        HELD_OUT,
        PMC9118341,
    ),
    Target(
        "in10_cmax",
        "Cmax, 10 mg intranasal",
        Route.INTRANASAL,
        10.0,
        "cmax",
        "ketamine",
        22.9,
        "ng/mL",
        "7",
        "GSD 1.97",
        _gsd_ci(22.9, 1.97, 7),
        HELD_OUT,
        PMC9118341,
    ),
    Target(
        "in10_auc",
        "AUC, 10 mg intranasal",
        Route.INTRANASAL,
        10.0,
        "auc_inf",
        "ketamine",
        19.0,
        "ng·h/mL",
        "7",
        "not published",
        REL30,
        HELD_OUT,
        PMC9118341,
    ),
    Target(
        "in50_cmax",
        "Cmax, 50 mg intranasal",
        Route.INTRANASAL,
        50.0,
        "cmax",
        "ketamine",
        77.6,
        "ng/mL",
        "10",
        "GSD 2.29",
        _gsd_ci(77.6, 2.29, 10),
        HELD_OUT,
        PMC9118341,
    ),
    Target(
        "in50_tmax",
        "Tmax, 50 mg intranasal",
        Route.INTRANASAL,
        50.0,
        "tmax",
        "ketamine",
        16 / 60,
        "h",
        "10",
        "GSD 4.4",
        Tolerance.factor(4.4),
        HELD_OUT,
        PMC9118341,
    ),
    Target(
        "in50_auc",
        "AUC, 50 mg intranasal",
        Route.INTRANASAL,
        50.0,
        "auc_inf",
        "ketamine",
        64.0,
        "ng·h/mL",
        "10",
        "not published",
        REL30,
        HELD_OUT,
        PMC9118341,
    ),
    Target(
        "in50_nk_cmax",
        "norketamine Cmax, 50 mg intranasal",
        Route.INTRANASAL,
        50.0,
        "cmax",
        "norketamine",
        105.0,
        "ng/mL",
        "10",
        "GSD 1.63",
        REL30,
        HELD_OUT,
        PMC9118341,
    ),
    Target(
        "in50_nk_auc",
        "norketamine AUC, 50 mg intranasal",
        Route.INTRANASAL,
        50.0,
        "auc_inf",
        "norketamine",
        291.0,
        "ng·h/mL",
        "10",
        "not published",
        REL30,
        HELD_OUT,
        PMC9118341,
    ),
    # -- sublingual and oral, 25 mg: F, Cmax, Tmax fitted (Chong 2006); AUC and norketamine held out --
    Target(
        "sl_cmax",
        "Cmax, 25 mg sublingual",
        Route.SUBLINGUAL,
        25.0,
        "cmax",
        "ketamine",
        28.6,
        "ng/mL",
        "6",
        "SD 6.6",
        REL30,
        FITTED,
        CHONG_2006,
    ),
    Target(
        "sl_tmax",
        "Tmax, 25 mg sublingual",
        Route.SUBLINGUAL,
        25.0,
        "tmax",
        "ketamine",
        0.76,
        "h",
        "6",
        "SD 0.51",
        FIT_TMAX,
        FITTED,
        CHONG_2006,
    ),
    Target(
        "sl_auc8",
        "AUC0-8h, 25 mg sublingual (4.0 ± 1.9 per mg)",
        Route.SUBLINGUAL,
        25.0,
        "auc_0_8",
        "ketamine",
        100.0,
        "ng·h/mL",
        "6",
        "SD 47.5",
        REL30,
        HELD_OUT,
        CHONG_2006,
    ),
    Target(
        "sl_nk_cmax",
        "norketamine Cmax, 25 mg sublingual",
        Route.SUBLINGUAL,
        25.0,
        "cmax",
        "norketamine",
        66.0,
        "ng/mL",
        "6",
        "SD 29",
        REL30,
        HELD_OUT,
        CHONG_2006,
    ),
    Target(
        "sl_nk_ratio8",
        "norketamine/ketamine AUC0-8h ratio, 25 mg sublingual",
        Route.SUBLINGUAL,
        25.0,
        "nk_ratio_0_8",
        "norketamine",
        2.475,
        "",
        "6",
        "-",
        Tolerance.rel(0.01),
        FITTED,
        CHONG_2006,
    ),
    Target(
        "sl_nk_auc8",
        "norketamine AUC0-8h, 25 mg sublingual (9.9 ± 5.3 per mg)",
        Route.SUBLINGUAL,
        25.0,
        "auc_0_8",
        "norketamine",
        247.5,
        "ng·h/mL",
        "6",
        "SD 132.5",
        REL30,
        HELD_OUT,
        CHONG_2006,
        note="the ratio is fitted; the absolute AUC also tests the model's clearances",
    ),
    Target(
        "sl_f_rolan",
        "F, 25 mg sublingual wafer",
        Route.SUBLINGUAL,
        25.0,
        "f",
        "ketamine",
        0.29,
        "",
        "8",
        "90% CI 27-31%",
        REL30,
        HELD_OUT,
        "Rolan 2014 BJCP (abstract), healthy volunteers",
        note="a second source for F: checks agreement between sources, not the model",
    ),
    Target(
        "sl_tmax_rolan",
        "Tmax, 25 mg sublingual wafer",
        Route.SUBLINGUAL,
        25.0,
        "tmax",
        "ketamine",
        0.75,
        "h",
        "8",
        "range 0.25-1.0",
        Tolerance.absolute(0.25),
        HELD_OUT,
        "Rolan 2014 BJCP (abstract)",
        note="±15 min, inside the published range",
    ),
    Target(
        "oral_cmax",
        "Cmax, 25 mg oral",
        Route.ORAL,
        25.0,
        "cmax",
        "ketamine",
        22.8,
        "ng/mL",
        "6",
        "SD 12.8",
        REL30,
        FITTED,
        CHONG_2006,
    ),
    Target(
        "oral_tmax",
        "Tmax, 25 mg oral",
        Route.ORAL,
        25.0,
        "tmax",
        "ketamine",
        0.96,
        "h",
        "6",
        "SD 0.8",
        FIT_TMAX,
        FITTED,
        CHONG_2006,
    ),
    Target(
        "oral_auc8",
        "AUC0-8h, 25 mg oral (3.1 ± 0.7 per mg)",
        Route.ORAL,
        25.0,
        "auc_0_8",
        "ketamine",
        77.5,
        "ng·h/mL",
        "6",
        "SD 17.5",
        REL30,
        HELD_OUT,
        CHONG_2006,
    ),
    Target(
        "oral_nk_cmax",
        "norketamine Cmax, 25 mg oral",
        Route.ORAL,
        25.0,
        "cmax",
        "norketamine",
        82.0,
        "ng/mL",
        "6",
        "SD 34",
        REL30,
        HELD_OUT,
        CHONG_2006,
    ),
    Target(
        "oral_nk_ratio8",
        "norketamine/ketamine AUC0-8h ratio, 25 mg oral",
        Route.ORAL,
        25.0,
        "nk_ratio_0_8",
        "norketamine",
        3.903,
        "",
        "6",
        "-",
        Tolerance.rel(0.01),
        FITTED,
        CHONG_2006,
    ),
    Target(
        "oral_nk_auc8",
        "norketamine AUC0-8h, 25 mg oral (12.1 ± 5.3 per mg)",
        Route.ORAL,
        25.0,
        "auc_0_8",
        "norketamine",
        302.5,
        "ng·h/mL",
        "6",
        "SD 132.5",
        REL30,
        HELD_OUT,
        CHONG_2006,
        note="the ratio is fitted; the absolute AUC also tests the model's clearances",
    ),
    # -- rectal: F and Tmax fitted; nothing published to hold out -----------------------------------
    Target(
        "rectal_f",
        "F, 50 mg rectal (AUC ratio to IV)",
        Route.RECTAL,
        50.0,
        "f",
        "ketamine",
        0.30,
        "",
        "3",
        "-",
        Tolerance.rel(0.01),
        FITTED,
        "Yanagihara 2003 (abstract), healthy volunteers",
    ),
    Target(
        "rectal_tmax",
        "Tmax, 50 mg rectal",
        Route.RECTAL,
        50.0,
        "tmax",
        "ketamine",
        0.70,
        "h",
        "children",
        "-",
        FIT_TMAX,
        FITTED,
        "Malinovsky 1996 (children; no adult value)",
    ),
    # -- intramuscular, adults: F and Tmax fitted (0.5 mg/kg group), Cmax held out ------------------
    Target(
        "im_f",
        "F, 35 mg IM (AUC ratio to IV)",
        Route.IM,
        35.0,
        "f",
        "ketamine",
        0.93,
        "",
        "-",
        "-",
        Tolerance.rel(0.01),
        FITTED,
        "Clements 1982 via primidi.com (tertiary), adult volunteers",
        note="Hornik 2018: F 0.41 in children (not used, rule 1)",
    ),
    Target(
        "im_tmax",
        "Tmax, 0.5 mg/kg IM",
        Route.IM,
        0.5,
        "tmax",
        "ketamine",
        0.5,
        "h",
        "20 (2 dose groups)",
        "median",
        FIT_TMAX,
        FITTED,
        IM_1984,
        per_kg=True,
    ),
    Target(
        "im_cmax",
        "Cmax, 0.5 mg/kg IM",
        Route.IM,
        0.5,
        "cmax",
        "ketamine",
        147.0,
        "ng/mL",
        "20 (2 dose groups)",
        "median",
        REL30,
        HELD_OUT,
        IM_1984,
        per_kg=True,
    ),
)
"""Every judged row of the racemic validation table."""

MODEL_CHOICE_KEYS = tuple(t.key for t in TARGETS if t.basis == HELD_OUT and t.metric != "f")
"""Rows the model choice is scored on: held-out rows that test the disposition model (not a second F source)."""


@cache
def _curves(model: PKModel, route: Route, dose_mg: float, duration_h: float, per_kg: bool) -> dict[str, np.ndarray]:
    kwargs = {"amount_mg_per_kg": dose_mg} if per_kg else {"amount_mg": dose_mg}
    dose = Dose(0.0, route, duration_h=duration_h, **kwargs)  # type: ignore[arg-type]
    result = simulate(Regimen((dose,)), TIMES, model=model, extrapolate=True)  # adults in paediatric models too
    return dict(result.conc_ng_ml)


def model_value(model: PKModel, target: Target) -> float:
    """The model's value of ``target`` (typical 70 kg adult); NaN if the model cannot give the route."""
    if target.route not in model.routes:
        return math.nan
    try:
        conc = _curves(model, target.route, target.dose_mg, target.duration_h, target.per_kg)[target.analyte]
    except ModelDataError:  # the route's published peak is out of this model's reach
        return math.nan
    if target.metric == "cmax":
        return float(summary.cmax(conc)[0])
    if target.metric == "tmax":
        return float(summary.tmax(conc, TIMES)[0])
    if target.metric == "auc_inf":
        return float(summary.auc_to_infinity(conc, TIMES)[0])
    if target.metric == "auc_0_8":
        inside = TIMES <= 8.0 + 1e-9
        return float(summary.auc(conc[:, inside], TIMES[inside])[0])
    if target.metric == "nk_ratio_0_8":
        inside = TIMES <= 8.0 + 1e-9
        curves = _curves(model, target.route, target.dose_mg, target.duration_h, target.per_kg)
        nk, k = (summary.auc(curves[a][:, inside], TIMES[inside])[0] for a in ("norketamine", "ketamine"))
        return float(nk / k)
    if target.metric == "conc_2min":
        return float(np.interp(2.0 / 60.0, TIMES, conc[0]))
    if target.metric == "f":
        iv = _curves(model, Route.IV, target.dose_mg, 0.0, False)[target.analyte]
        return float(summary.auc_to_infinity(conc, TIMES)[0] / summary.auc_to_infinity(iv, TIMES)[0])
    raise ValueError(f"unknown metric {target.metric!r}")


@cache
def candidate(model_id: str) -> PKModel:
    """``model_id`` offered every route, for the model choice: the route data are model-independent
    observables, re-derived for each model; a route whose peak a model cannot reach gives NaN."""
    data = dict(get_model(model_id).data)
    data["routes"] = [r.value for r in Route]
    return MammillaryModel(data)


def within(target: Target, value: float) -> bool:
    """Whether ``value`` is inside the row's tolerance."""
    low, high = target.tol.bounds(target.published)
    return math.isfinite(value) and low <= value <= high
