"""Dissociation (CADSS total) as a sigmoid Emax function of the parent drug's NMDA occupancy.

Model, per subject i and time t (parameters in ``data/pd.yaml`` ``dissociation:``)::

    O(t)        = NMDA occupancy from the parent's effect-site concentration (metabolite excluded)
    change_i(t) = CADSS_max * O^h / (O50_i^h + O^h),   O50_i = O50 * exp(eta_i), eta_i ~ N(0, omega^2)
    CADSS_i(t)  = min(baseline_i + change_i(t), CADSS_max)

``CADSS_max`` is the 23-item scale maximum (92), so the score stays on the scale. A patient has a
clinically meaningful dissociation when, at some time, the total is above 4 and the change above 0
(the Spravato trials' criterion). ``O50``, ``omega`` and ``h`` are calibrated (:func:`calibrate`)
to the mean CADSS after IV racemic ketamine 0.5 mg/kg over 40 min and to the shares of Spravato
patients who dissociate after 56 and 84 mg.

Why the parent only: the metabolite is not additive for psychotomimetic effects (Olofsen 2012 found
opposite-signed effects of S-ketamine and S-norketamine), and dissociation resolves within
1.5-2 h while norketamine is still near its peak, which a metabolite-driven effect could not do.
Occupancy (not ng/mL) carries the S- vs R-ketamine potency (Ki 0.30 vs 1.4 µM), so one parameter set
serves racemic ketamine and esketamine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import ndtr, ndtri

from .._data import load
from .._typing import BoolArray, FloatArray
from ..exceptions import InvalidInputError, UnknownNameError
from ..population import sample_covariates
from ..regimen import Dose, Regimen, Route, iv_acute_series
from .effect_site import effect_site_name
from .occupancy import nmda_occupancy, receptor_species, unbound_um

if TYPE_CHECKING:
    from ..simulate import SimulationResult

CALIBRATION_TIMES_H: FloatArray = np.arange(0.0, 4.5 + 1e-9, 1.0 / 60.0)
"""1-min grid (h) on which the calibration populations are simulated (index = minutes)."""
CALIBRATION_TIMES_H.setflags(write=False)

_N_NODES = 200  # normal quantile nodes for the between-patient integral in the calibration


def _section(name: str) -> dict[str, Any]:
    section = load("pd.yaml")[name]
    assert isinstance(section, dict)
    return section


def _value(entry: Any) -> float:
    return float(entry["value"])


def parent_analyte(drug: str) -> str:
    """The parent analyte of ``drug`` (``ketamine`` or ``esketamine``): first analyte in ``drugs.yaml``."""
    drugs = load("drugs.yaml")["drugs"]
    if drug not in drugs:
        raise UnknownNameError("drug", drug, drugs)
    return str(drugs[drug]["analytes"][0])


def effect_concentration(conc_ng_ml: Mapping[str, FloatArray], analyte: str) -> FloatArray:
    """Effect-site concentration (ng/mL) of ``analyte`` from ``conc_ng_ml``.

    Uses ``<analyte>_effect`` when present (a ``simulate(..., effect_sites=True)`` result), else the
    entry named ``analyte``, which the caller then vouches is an effect-site concentration.
    """
    for key in (effect_site_name(analyte), analyte):
        if key in conc_ng_ml:
            conc = np.asarray(conc_ng_ml[key], dtype=np.float64)
            if conc.ndim != 2:
                raise InvalidInputError(key, f"has shape {conc.shape}", "(n_subjects, n_times)")
            return conc
    raise UnknownNameError("analyte", effect_site_name(analyte), conc_ng_ml)


def parent_nmda_occupancy(conc_ng_ml: Mapping[str, FloatArray], drug: str) -> FloatArray:
    """NMDA occupancy (0-1) from the parent's effect-site concentration alone, ``(n_subjects, n_times)``."""
    parent = parent_analyte(drug)
    conc = effect_concentration(conc_ng_ml, parent)
    zeros = np.zeros_like(conc)
    return nmda_occupancy({a: conc if a == parent else zeros for a in receptor_species(drug)}, drug)


def occupancy_to_parent_ng_ml(occupancy: float, drug: str) -> float:
    """Steady-state parent effect-site concentration (ng/mL) giving ``occupancy`` (inverse of the above)."""
    if not 0.0 <= occupancy < 1.0:
        raise InvalidInputError("occupancy", f"got {occupancy}", "0 <= occupancy < 1")
    parent = parent_analyte(drug)
    ki = {name: _value(entry) for name, entry in load("pd.yaml")["nmda_ki_um"].items()}
    parts = receptor_species(drug)[parent].items()
    per_ng_ml = sum(float(unbound_um(np.ones(1), parent, f)[0]) / ki[s] for s, f in parts)
    return occupancy / (1.0 - occupancy) / per_ng_ml


def sigmoid(x: FloatArray, x50: FloatArray | float, hill: float) -> FloatArray:
    """Hill function x^h / (x50^h + x^h) (0 at x = 0, increasing, below 1); ``x50`` broadcasts."""
    xh = np.power(np.maximum(x, 0.0), hill)
    return np.asarray(xh / (np.power(x50, hill) + xh))


def _eta(rng: np.random.Generator | None, n: int) -> FloatArray:
    return np.zeros(n) if rng is None else rng.standard_normal(n)


@dataclass(frozen=True)
class DissociationParameters:
    """CADSS model constants (``data/pd.yaml`` ``dissociation:``)."""

    cadss_max: float
    """Scale maximum (23 items x 0-4 = 92 points), the model's Emax."""
    threshold: float
    """Clinically meaningful: total CADSS above this (4 points) with a change above 0."""
    hill: float
    """Hill coefficient on occupancy (DERIVED)."""
    o50: float
    """Occupancy at half of ``cadss_max`` for the typical patient (DERIVED; > 1 means the curve
    stays in its convex lower part over the whole 0-1 occupancy range)."""
    omega: float
    """SD of log O50 between patients (DERIVED)."""

    @classmethod
    def from_data(cls) -> DissociationParameters:
        """The packaged values."""
        d = _section("dissociation")
        return cls(
            cadss_max=_value(d["cadss_max"]),
            threshold=_value(d["meaningful_threshold"]),
            hill=_value(d["hill"]),
            o50=_value(d["o50"]),
            omega=_value(d["omega"]),
        )

    def change(self, occupancy: FloatArray, eta: FloatArray) -> FloatArray:
        """Drug-induced CADSS change (points) at ``occupancy`` ``(n, T)`` for patients with ``eta`` ``(n,)``."""
        o50 = self.o50 * np.exp(self.omega * np.asarray(eta, dtype=np.float64))[:, None]
        return self.cadss_max * sigmoid(occupancy, o50, self.hill)

    def threshold_occupancy(self, baseline_cadss: float = 0.0, eta: float = 0.0) -> float:
        """Occupancy at which a patient (``eta``) first has a clinically meaningful CADSS."""
        needed = self.threshold - baseline_cadss
        if needed <= 0.0:
            return 0.0
        return float(self.o50 * np.exp(self.omega * eta) * (needed / (self.cadss_max - needed)) ** (1.0 / self.hill))


@dataclass(frozen=True)
class DissociationResult:
    """CADSS over time per subject."""

    cadss: FloatArray
    """Total CADSS (points, 0-92: baseline + change, capped at the scale maximum), ``(n_subjects, n_times)``."""
    change: FloatArray
    """Drug-induced change from baseline (points), ``(n_subjects, n_times)``."""
    meaningful: BoolArray
    """``(n_subjects,)``: total above the threshold and change above 0 at some time."""
    eta: FloatArray
    """``(n_subjects,)`` log-sensitivity deviations used (0 = typical patient)."""

    @property
    def peak(self) -> FloatArray:
        """Peak total CADSS per subject, ``(n_subjects,)``."""
        return np.asarray(self.cadss.max(axis=1))


def dissociation(
    effect_conc_ng_ml: Mapping[str, FloatArray],
    drug: str,
    rng: np.random.Generator | None = None,
    *,
    baseline_cadss: float | FloatArray = 0.0,
    params: DissociationParameters | None = None,
) -> DissociationResult:
    """CADSS total over time from effect-site concentrations.

    Parameters
    ----------
    effect_conc_ng_ml
        Analyte -> effect-site concentration (ng/mL), each ``(n_subjects, n_times)``; the
        ``conc_ng_ml`` of ``simulate(..., effect_sites=True)`` can be passed as is.
    drug
        ``racemic-ketamine``, ``esketamine`` or ``s-ketamine``.
    rng
        Draws each subject's sensitivity (log-normal O50); ``None`` gives typical patients.
    baseline_cadss
        Pre-dose CADSS total (points), scalar or ``(n_subjects,)``.
    params
        Model constants; default :meth:`DissociationParameters.from_data`.
    """
    p = params or DissociationParameters.from_data()
    occupancy = parent_nmda_occupancy(effect_conc_ng_ml, drug)
    n = occupancy.shape[0]
    baseline = np.broadcast_to(np.asarray(baseline_cadss, dtype=np.float64), (n,))
    if np.any(baseline < 0.0) or np.any(baseline > p.cadss_max):
        raise InvalidInputError("baseline_cadss", "outside the scale", f"0-{p.cadss_max:g}")
    eta = _eta(rng, n)
    change = p.change(occupancy, eta)
    cadss = np.minimum(baseline[:, None] + change, p.cadss_max)
    meaningful = np.any((cadss > p.threshold) & (change > 0.0), axis=1)
    return DissociationResult(cadss, change, meaningful, eta)


# --------------------------------------------------------------------------------------------
# Calibration (reproducible: fixed seed, deterministic quantile integration over patients)


def calibration_regimens() -> dict[str, tuple[str, Regimen]]:
    """Regimens of the calibration targets: name -> (drug, regimen)."""
    return {
        "racemic_iv_0p5": ("racemic-ketamine", iv_acute_series(days=[1])),
        "spravato_56": ("esketamine", Regimen((Dose(0.0, Route.INTRANASAL, amount_mg=56.0),))),
        "spravato_84": ("esketamine", Regimen((Dose(0.0, Route.INTRANASAL, amount_mg=84.0),))),
    }


def calibration_population(name: str, n_subjects: int, seed: int) -> SimulationResult:
    """Simulate calibration regimen ``name`` (sampled adults, PK random effects, effect sites).

    Regimens of the same drug get the same subjects (covariates and random effects), so the
    56 and 84 mg Spravato populations are one population at two doses.
    """
    from ..simulate import simulate  # here, not at the top: simulate imports this package

    drug, regimen = calibration_regimens()[name]
    rng = np.random.default_rng([seed, sorted({d for d, _ in calibration_regimens().values()}).index(drug)])
    covariates = sample_covariates(n_subjects, rng)
    times = CALIBRATION_TIMES_H
    return simulate(regimen, times, drug=drug, covariates=covariates, iiv=True, rng=rng, effect_sites=True)


@cache
def calibration_occupancy(n_subjects: int, seed: int) -> dict[str, FloatArray]:
    """Parent NMDA occupancy ``(n_subjects, n_times)`` on :data:`CALIBRATION_TIMES_H` per regimen."""
    out: dict[str, FloatArray] = {}
    for name, (drug, _) in calibration_regimens().items():
        out[name] = parent_nmda_occupancy(calibration_population(name, n_subjects, seed).conc_ng_ml, drug)
        out[name].setflags(write=False)
    return out


def _nodes() -> FloatArray:
    return np.asarray(ndtri((np.arange(_N_NODES) + 0.5) / _N_NODES))


def meaningful_share(peak_occupancy: FloatArray, params: DissociationParameters) -> float:
    """Expected share of patients (0-1) with a meaningful CADSS given their peak occupancies (baseline 0)."""
    k = (params.threshold / (params.cadss_max - params.threshold)) ** (1.0 / params.hill)
    # meaningful <=> O50_i < O_peak / k <=> eta < log(O_peak / (k O50)) / omega
    return float(np.mean(ndtr(np.log(np.maximum(peak_occupancy, 1e-300) / (k * params.o50)) / params.omega)))


def calibrate(n_subjects: int | None = None, seed: int | None = None) -> DissociationParameters:
    """Solve O50, omega and the Hill coefficient from the targets in ``data/pd.yaml``.

    Targets (``dissociation.targets``): (1) mean CADSS 40 min into IV racemic ketamine 0.5 mg/kg
    over 40 min; (2, 3) share of Spravato patients with a meaningful CADSS at any time after 56 mg
    and after 84 mg (the label's 61% and 75% ends). Populations (``dissociation.calibration``):
    ``n_subjects`` sampled adults per regimen with PK random effects (``seed``); the patients'
    sensitivities are integrated over fixed normal quantiles, so the result is deterministic.
    """
    from scipy.optimize import least_squares  # only calibration needs the optimiser

    d = _section("dissociation")
    cal, targets = d["calibration"], d["targets"]
    n = int(cal["n_subjects"]) if n_subjects is None else n_subjects
    s = int(cal["seed"]) if seed is None else seed
    occ = calibration_occupancy(n, s)
    at_40 = occ["racemic_iv_0p5"][:, int(np.argmin(np.abs(CALIBRATION_TIMES_H - 40.0 / 60.0)))]
    peak_56, peak_84 = occ["spravato_56"].max(axis=1), occ["spravato_84"].max(axis=1)
    mean_target = _value(targets["racemic_mean_cadss_40min"])
    share_56, share_84 = (float(x) for x in targets["spravato_share_meaningful"]["by_dose"])
    base = DissociationParameters(_value(d["cadss_max"]), _value(d["meaningful_threshold"]), np.nan, np.nan, np.nan)
    nodes = _nodes()
    grid = np.broadcast_to(at_40, (nodes.size, at_40.size))

    def candidate(x: FloatArray) -> DissociationParameters:
        return replace(base, o50=float(np.exp(x[0])), omega=float(np.exp(x[1])), hill=float(np.exp(x[2])))

    def residuals(x: FloatArray) -> FloatArray:
        p = candidate(x)
        mean = float(p.change(grid, nodes).mean())
        return np.array(
            [
                mean / mean_target - 1.0,
                meaningful_share(peak_56, p) / share_56 - 1.0,
                meaningful_share(peak_84, p) / share_84 - 1.0,
            ]
        )

    solution = least_squares(residuals, np.log([1.5, 0.4, 2.0]), xtol=1e-12, ftol=1e-12, gtol=1e-12)
    return candidate(solution.x)


__all__ = [
    "CALIBRATION_TIMES_H",
    "DissociationParameters",
    "DissociationResult",
    "calibrate",
    "calibration_occupancy",
    "calibration_population",
    "calibration_regimens",
    "dissociation",
    "effect_concentration",
    "meaningful_share",
    "occupancy_to_parent_ng_ml",
    "parent_analyte",
    "parent_nmda_occupancy",
    "sigmoid",
]
