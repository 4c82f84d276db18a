"""Blood pressure and heart rate changes: sigmoid Emax functions of the parent's effect-site exposure.

Model, per subject i, session k, time t and endpoint X in (SBP, DBP, HR) (``data/pd.yaml``
``hemodynamics:``)::

    L(t)        = parent receptor load: sum over its enantiomers of unbound effect-site µM / Ki
                  (linear in ng/mL; S-ketamine counts ~1.65x racemic ketamine)
    dX_ik(t)    = s_ik * Emax_X * baseline_X,i * L^h / (L50_X^h + L^h)
    s_ik        = exp(omega_p z_i + omega_s u_ik - (omega_p^2 + omega_s^2) / 2),  z, u ~ N(0, 1)

``Emax_X`` is the largest relative rise seen with S-ketamine up to anaesthetic concentrations
(mean arterial pressure +27%, heart rate +43.5%), applied to the patient's baseline. The
sensitivity ``s`` has mean 1 and two parts: one per patient (``z``) and one per session (``u``),
because the label warns that a large rise can follow any dose even after small ones. SBP and DBP
share one sensitivity; HR has its own. ``L50_X`` and ``h`` are calibrated to the mean rises and
their time course after IV racemic ketamine 0.5 mg/kg over 40 min, ``omega`` to the share of
Spravato patients with a large rise in the first 4 weeks (:func:`calibrate`).

There is no tolerance term: the same exposure gives the same expected rise on every session. The
metabolite is left out (BP is back to baseline within 1.5 h of an infusion, while norketamine is
near its peak), and the Ki weighting is a potency assumption, not a claim that the pressor effect
is NMDA-mediated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from .._data import load
from .._typing import BoolArray, FloatArray, IntArray
from ..exceptions import InvalidInputError
from ..regimen import Regimen
from .dissociation import CALIBRATION_TIMES_H, calibration_occupancy, parent_nmda_occupancy, sigmoid

ENDPOINTS = ("sbp", "dbp", "hr")
"""Systolic, diastolic blood pressure (mmHg) and heart rate (bpm)."""

_N_NODES = 100  # normal quantile nodes for the between-patient integral in the calibration


def _section() -> dict[str, Any]:
    section = load("pd.yaml")["hemodynamics"]
    assert isinstance(section, dict)
    return section


def _by_endpoint(entry: dict[str, Any]) -> dict[str, float]:
    return {x: float(entry[x]["value"]) for x in ENDPOINTS}


def occupancy_to_load(occupancy: FloatArray) -> FloatArray:
    """Receptor load ``O / (1 - O)`` (sum of unbound µM / Ki) from NMDA occupancy ``O``."""
    return np.asarray(occupancy / (1.0 - occupancy))


def parent_nmda_load(conc_ng_ml: Mapping[str, FloatArray], drug: str) -> FloatArray:
    """Parent receptor load ``(n_subjects, n_times)``: unbound effect-site µM / Ki summed over enantiomers."""
    return occupancy_to_load(parent_nmda_occupancy(conc_ng_ml, drug))


def session_index(times_h: FloatArray, regimen: Regimen) -> IntArray:
    """``(n_times,)`` index of the session (dose) each time belongs to: the last dose started by then."""
    starts = np.array(sorted({d.time_h for d in regimen.doses}))
    return np.asarray(np.maximum(np.searchsorted(starts, np.asarray(times_h) + 1e-9, side="right") - 1, 0), np.int64)


@dataclass(frozen=True)
class HemodynamicsParameters:
    """Haemodynamic model constants (``data/pd.yaml`` ``hemodynamics:``)."""

    emax_fraction: dict[str, float]
    """Largest rise as a fraction of baseline, per endpoint (SBP and DBP from the MAP rise)."""
    l50: dict[str, float]
    """Receptor load at half the largest rise, per endpoint (DERIVED)."""
    hill: float
    """Hill coefficient, shared by the endpoints (DERIVED)."""
    omega: float
    """Total SD of log sensitivity (DERIVED)."""
    session_share: float
    """Share of ``omega^2`` that varies from session to session (ASSUMED 0.5)."""
    baseline: dict[str, float]
    """Default baselines (mmHg, bpm) when none are given (ASSUMED reference values)."""

    @classmethod
    def from_data(cls) -> HemodynamicsParameters:
        """The packaged values."""
        h = _section()
        return cls(
            emax_fraction=_by_endpoint(h["emax_fraction"]),
            l50=_by_endpoint(h["l50"]),
            hill=float(h["hill"]["value"]),
            omega=float(h["omega"]["value"]),
            session_share=float(h["session_share"]["value"]),
            baseline=_by_endpoint(h["default_baseline"]),
        )

    @property
    def omega_patient(self) -> float:
        """SD of the per-patient log sensitivity."""
        return float(self.omega * np.sqrt(1.0 - self.session_share))

    @property
    def omega_session(self) -> float:
        """SD of the per-session log sensitivity."""
        return float(self.omega * np.sqrt(self.session_share))

    def mean_change(self, endpoint: str, load: FloatArray, baseline: FloatArray | float) -> FloatArray:
        """Change (mmHg or bpm) with sensitivity 1, i.e. the population-mean change at ``load``."""
        shape = sigmoid(load, self.l50[endpoint], self.hill)
        return np.asarray(self.emax_fraction[endpoint] * np.asarray(baseline, dtype=np.float64)[..., None] * shape)

    def sensitivity(self, rng: np.random.Generator, n: int, sessions: IntArray) -> FloatArray:
        """``(n, n_times)`` log-normal sensitivities with mean 1: per patient times per session."""
        n_sessions = int(sessions.max()) + 1 if sessions.size else 1
        z = rng.standard_normal(n)
        u = rng.standard_normal((n, n_sessions))
        log_s = self.omega_patient * z[:, None] + self.omega_session * u[:, sessions]
        return np.asarray(np.exp(log_s - self.omega**2 / 2.0))


@dataclass(frozen=True)
class HemodynamicsResult:
    """Changes from baseline over time, each ``(n_subjects, n_times)``."""

    sbp_change_mmhg: FloatArray
    dbp_change_mmhg: FloatArray
    hr_change_bpm: FloatArray
    baseline_sbp_mmhg: FloatArray
    """``(n_subjects,)``."""
    baseline_dbp_mmhg: FloatArray
    baseline_hr_bpm: FloatArray
    pressor_sensitivity: FloatArray
    """``(n_subjects, n_times)`` multiplier of the SBP and DBP rise (population mean 1)."""
    hr_sensitivity: FloatArray
    """``(n_subjects, n_times)`` multiplier of the HR rise."""

    @property
    def sbp_mmhg(self) -> FloatArray:
        """Systolic pressure over time (mmHg)."""
        return np.asarray(self.baseline_sbp_mmhg[:, None] + self.sbp_change_mmhg)

    @property
    def dbp_mmhg(self) -> FloatArray:
        """Diastolic pressure over time (mmHg)."""
        return np.asarray(self.baseline_dbp_mmhg[:, None] + self.dbp_change_mmhg)

    @property
    def hr_bpm(self) -> FloatArray:
        """Heart rate over time (bpm)."""
        return np.asarray(self.baseline_hr_bpm[:, None] + self.hr_change_bpm)


def _baseline(value: float | FloatArray, n: int, name: str) -> FloatArray:
    out = np.array(np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)))
    if not np.all(np.isfinite(out)) or np.any(out <= 0.0):
        raise InvalidInputError(name, "must be positive and finite", "> 0")
    return out


def hemodynamics(
    effect_conc_ng_ml: Mapping[str, FloatArray],
    drug: str,
    rng: np.random.Generator | None = None,
    *,
    sessions: IntArray | None = None,
    baseline_sbp_mmhg: float | FloatArray | None = None,
    baseline_dbp_mmhg: float | FloatArray | None = None,
    baseline_hr_bpm: float | FloatArray | None = None,
    params: HemodynamicsParameters | None = None,
) -> HemodynamicsResult:
    """SBP, DBP (mmHg) and HR (bpm) changes over time from effect-site concentrations.

    Parameters
    ----------
    effect_conc_ng_ml
        Analyte -> effect-site concentration (ng/mL), each ``(n_subjects, n_times)``; the
        ``conc_ng_ml`` of ``simulate(..., effect_sites=True)`` can be passed as is.
    drug
        ``racemic-ketamine``, ``esketamine`` or ``s-ketamine``.
    rng
        Draws the sensitivities (log-normal, mean 1, per patient and per session); ``None`` gives
        sensitivity 1 everywhere: the population-mean rise at each subject's exposure.
    sessions
        ``(n_times,)`` session of each time (:func:`session_index`); default one session.
    baseline_sbp_mmhg, baseline_dbp_mmhg, baseline_hr_bpm
        Pre-dose values, scalar or ``(n_subjects,)``; default the reference values in ``pd.yaml``.
    params
        Model constants; default :meth:`HemodynamicsParameters.from_data`.
    """
    p = params or HemodynamicsParameters.from_data()
    load = parent_nmda_load(effect_conc_ng_ml, drug)
    n, n_times = load.shape
    index = np.zeros(n_times, dtype=np.int64) if sessions is None else np.asarray(sessions, dtype=np.int64)
    if index.shape != (n_times,) or (index.size and index.min() < 0):
        raise InvalidInputError("sessions", f"has shape {index.shape}", f"({n_times},) non-negative integers")
    given = {"sbp": baseline_sbp_mmhg, "dbp": baseline_dbp_mmhg, "hr": baseline_hr_bpm}
    base = {x: _baseline(p.baseline[x] if v is None else v, n, f"baseline_{x}") for x, v in given.items()}
    if rng is None:
        pressor, heart = np.ones((n, n_times)), np.ones((n, n_times))
    else:
        pressor, heart = p.sensitivity(rng, n, index), p.sensitivity(rng, n, index)
    return HemodynamicsResult(
        sbp_change_mmhg=pressor * p.mean_change("sbp", load, base["sbp"]),
        dbp_change_mmhg=pressor * p.mean_change("dbp", load, base["dbp"]),
        hr_change_bpm=heart * p.mean_change("hr", load, base["hr"]),
        baseline_sbp_mmhg=base["sbp"],
        baseline_dbp_mmhg=base["dbp"],
        baseline_hr_bpm=base["hr"],
        pressor_sensitivity=pressor,
        hr_sensitivity=heart,
    )


def large_bp_rise(
    result: HemodynamicsResult,
    times_h: FloatArray,
    session_starts_h: Sequence[float] = (0.0,),
    within_h: float | None = None,
) -> BoolArray:
    """``(n_subjects,)``: SBP rise >= 40 and/or DBP rise >= 25 mmHg (label criterion) within
    ``within_h`` (default 1.5 h) of any session start."""
    rule = _section()["large_rise"]
    window = float(rule["within_h"]) if within_h is None else within_h
    t = np.asarray(times_h)
    mask = np.zeros(t.shape, dtype=bool)
    for start in session_starts_h:
        mask |= (t >= start - 1e-12) & (t <= start + window + 1e-12)
    sbp = result.sbp_change_mmhg[:, mask] >= float(rule["sbp_mmhg"])
    dbp = result.dbp_change_mmhg[:, mask] >= float(rule["dbp_mmhg"])
    return np.asarray(np.any(sbp | dbp, axis=1))


# --------------------------------------------------------------------------------------------
# Calibration (reproducible: the dissociation calibration populations, closed-form shares)


def _needed_sensitivity(load: FloatArray, times_h: FloatArray, params: HemodynamicsParameters) -> FloatArray:
    """``(n,)`` sensitivity at which a session reaches the large-rise criterion (default baselines)."""
    rule = _section()["large_rise"]
    mask = np.asarray(times_h) <= float(rule["within_h"]) + 1e-12
    peak = {x: params.mean_change(x, load[:, mask], params.baseline[x]).max(axis=1) for x in ("sbp", "dbp")}
    with np.errstate(divide="ignore"):
        return np.asarray(np.minimum(float(rule["sbp_mmhg"]) / peak["sbp"], float(rule["dbp_mmhg"]) / peak["dbp"]))


def large_rise_share(session_loads: Sequence[FloatArray], times_h: FloatArray, params: HemodynamicsParameters) -> float:
    """Expected share of patients (0-1) with a large rise in at least one of their sessions.

    ``session_loads[k]`` is the receptor load ``(n_subjects, n_times)`` of session k (the same
    subjects in every session, times from the session's start). The per-session sensitivity is
    integrated in closed form, the per-patient one over fixed normal quantiles.
    """
    needed = [_needed_sensitivity(load, times_h, params) for load in session_loads]
    return _share_from_needed(needed, params)


def _share_from_needed(needed: Sequence[FloatArray], params: HemodynamicsParameters) -> float:
    z = np.asarray(ndtri((np.arange(_N_NODES) + 0.5) / _N_NODES))
    op, os_ = params.omega_patient, params.omega_session
    none = np.ones((z.size, needed[0].shape[0]))
    for session in needed:
        excess = (np.log(session) + params.omega**2 / 2.0)[None, :] - op * z[:, None]
        p_session = ndtr(-excess / os_) if os_ > 0.0 else (excess <= 0.0).astype(np.float64)
        none *= 1.0 - p_session
    return float(np.mean(1.0 - none))


def calibration_sessions() -> dict[str, list[str]]:
    """Spravato arms of the share target: the first 4 weeks (8 sessions) as calibration regimens."""
    arms = _section()["targets"]["spravato_large_rise_share"]["arms"]
    return {str(name): [str(s) for s in sessions] for name, sessions in arms.items()}


def calibrate(n_subjects: int | None = None, seed: int | None = None) -> HemodynamicsParameters:
    """Solve L50 per endpoint, the Hill coefficient and omega from the targets in ``data/pd.yaml``.

    Step 1 (exact, 4 equations): on the 135-patient study's grid (every 10 min to 30 min after a
    40-min 0.5 mg/kg IV infusion) the largest population-mean rises are SBP 7.4, DBP 6.0 mmHg and HR
    1.9 bpm at the default baselines, and 1.5 h after the infusion the mean SBP rise is down to
    ``return.fraction_of_peak`` of that peak. Sensitivities have mean 1, so omega does not enter.
    Step 2: omega brings the Spravato share with a large rise in at least one session of the first
    4 weeks (56 and 84 mg arms pooled) as close as possible, in log, to the target. Populations:
    the dissociation calibration populations (``hemodynamics.calibration`` n and seed).
    """
    from scipy.optimize import least_squares, minimize_scalar  # only calibration needs the optimiser

    h = _section()
    cal, targets = h["calibration"], h["targets"]
    n = int(cal["n_subjects"]) if n_subjects is None else n_subjects
    s = int(cal["seed"]) if seed is None else seed
    loads = {k: occupancy_to_load(v) for k, v in calibration_occupancy(n, s).items()}
    times = CALIBRATION_TIMES_H
    grid = [int(np.argmin(np.abs(times - m / 60.0))) for m in targets["study_grid_min"]]
    after = int(np.argmin(np.abs(times - float(targets["return"]["at_min"]) / 60.0)))
    rises = {x: float(targets["iv_0p5_mean_peak_rise"][x]["value"]) for x in ENDPOINTS}
    fraction = float(targets["return"]["fraction_of_peak"])
    emax, baseline = _by_endpoint(h["emax_fraction"]), _by_endpoint(h["default_baseline"])
    session_share = float(h["session_share"]["value"])
    racemic = loads["racemic_iv_0p5"]

    def candidate(x: FloatArray, omega: float = np.nan) -> HemodynamicsParameters:
        l50 = dict(zip(ENDPOINTS, (float(v) for v in np.exp(x[:3])), strict=True))
        return HemodynamicsParameters(emax, l50, float(np.exp(x[3])), omega, session_share, baseline)

    def residuals(x: FloatArray) -> FloatArray:
        p = candidate(x)
        mean = {e: p.mean_change(e, racemic, p.baseline[e]).mean(axis=0) for e in ENDPOINTS}
        peak = {e: float(mean[e][grid].max()) for e in ENDPOINTS}
        out = [peak[e] / rises[e] - 1.0 for e in ENDPOINTS]
        return np.array([*out, mean["sbp"][after] / peak["sbp"] / fraction - 1.0])

    step1 = least_squares(residuals, np.log([1.0, 1.0, 3.0, 2.0]), xtol=1e-12, ftol=1e-12, gtol=1e-12)
    fitted = candidate(step1.x)
    needed = {k: _needed_sensitivity(loads[k], times, fitted) for k in ("spravato_56", "spravato_84")}
    arms = [[needed[name] for name in sessions] for sessions in calibration_sessions().values()]
    target = float(targets["spravato_large_rise_share"]["value"])

    def share(omega: float) -> float:
        p = candidate(step1.x, omega)
        return float(np.mean([_share_from_needed(arm, p) for arm in arms]))

    best = minimize_scalar(
        lambda w: float(np.log(share(w) / target) ** 2), bounds=(0.05, 3.0), method="bounded", options={"xatol": 1e-6}
    )
    return candidate(step1.x, float(best.x))


__all__ = [
    "ENDPOINTS",
    "HemodynamicsParameters",
    "HemodynamicsResult",
    "calibrate",
    "calibration_sessions",
    "hemodynamics",
    "large_bp_rise",
    "large_rise_share",
    "occupancy_to_load",
    "parent_nmda_load",
    "session_index",
]
