"""Exposure summaries of concentration curves: Cmax, Tmax, AUC, time above a threshold.

Every function takes ``conc`` of shape ``(n_subjects, n_times)`` (ng/mL) on ``times_h`` and
returns one value per subject. AUC uses the linear-up/log-down trapezoidal rule; AUC to infinity
adds ``C_last / lambda_z`` from a log-linear fit of the terminal points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._typing import FloatArray
from .exceptions import InvalidInputError


def _check(conc: FloatArray, times_h: FloatArray) -> tuple[FloatArray, FloatArray]:
    c = np.atleast_2d(np.asarray(conc, dtype=np.float64))
    t = np.asarray(times_h, dtype=np.float64)
    if c.shape[-1] != t.size:
        raise InvalidInputError("times_h", f"has {t.size} times for {c.shape[-1]} concentrations", "one per column")
    return c, t


def cmax(conc: FloatArray) -> FloatArray:
    """Peak concentration of each subject (ng/mL)."""
    return np.asarray(np.nanmax(np.atleast_2d(conc), axis=-1))


def tmax(conc: FloatArray, times_h: FloatArray) -> FloatArray:
    """Time of the peak of each subject (h); the first time if the peak repeats."""
    c, t = _check(conc, times_h)
    return np.asarray(t[np.argmax(np.nan_to_num(c, nan=-np.inf), axis=-1)])


def auc(conc: FloatArray, times_h: FloatArray) -> FloatArray:
    """AUC over the grid (ng·h/mL), linear trapezoids rising and log trapezoids falling."""
    c, t = _check(conc, times_h)
    dt = np.diff(t)
    c0, c1 = c[:, :-1], c[:, 1:]
    linear = 0.5 * (c0 + c1) * dt
    falling = (c1 < c0) & (c1 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log = (c0 - c1) * dt / np.log(c0 / c1)
    return np.asarray(np.sum(np.where(falling, log, linear), axis=-1))


def terminal_rate(conc: FloatArray, times_h: FloatArray, n_points: int = 4) -> FloatArray:
    """Terminal elimination rate lambda_z (1/h) from the last ``n_points`` positive samples."""
    c, t = _check(conc, times_h)
    x = t[-n_points:] - t[-n_points:].mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(c[:, -n_points:])
        slope = np.sum(x * (y - y.mean(axis=1, keepdims=True)), axis=1) / np.sum(x * x)
    return np.asarray(-slope)


def auc_to_infinity(conc: FloatArray, times_h: FloatArray, n_points: int = 4) -> FloatArray:
    """AUC extrapolated to infinity (ng·h/mL): AUC over the grid + C_last / lambda_z."""
    c, t = _check(conc, times_h)
    return auc(c, t) + c[:, -1] / terminal_rate(c, t, n_points)


def half_life_h(conc: FloatArray, times_h: FloatArray, n_points: int = 4) -> FloatArray:
    """Terminal half-life (h) = ln 2 / lambda_z."""
    return np.asarray(np.log(2.0) / terminal_rate(conc, times_h, n_points))


def concentration_at(conc: FloatArray, times_h: FloatArray, at_h: float) -> FloatArray:
    """Concentration at ``at_h`` (h), linearly interpolated between grid points."""
    c, t = _check(conc, times_h)
    if not t[0] <= at_h <= t[-1]:
        raise InvalidInputError("at_h", f"{at_h} h is outside the simulated window", f"{t[0]:g}-{t[-1]:g} h")
    return np.asarray([np.interp(at_h, t, row) for row in c])


def time_above(conc: FloatArray, times_h: FloatArray, threshold_ng_ml: float) -> FloatArray:
    """Total time (h) each subject spends above ``threshold_ng_ml``, crossings interpolated."""
    c, t = _check(conc, times_h)
    above = c - threshold_ng_ml
    a0, a1 = above[:, :-1], above[:, 1:]
    dt = np.diff(t)
    both = (a0 > 0) & (a1 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac_up = np.where(a1 > a0, a1 / (a1 - a0), 0.0)
        frac_down = np.where(a0 > a1, a0 / (a0 - a1), 0.0)
    partial = np.where((a0 <= 0) & (a1 > 0), frac_up, np.where((a0 > 0) & (a1 <= 0), frac_down, 0.0))
    return np.asarray(np.sum(np.where(both, dt, partial * dt), axis=-1))


def percentiles(values: FloatArray, q: Sequence[float] = (5.0, 50.0, 95.0)) -> dict[str, float]:
    """Percentiles of per-subject values, keyed ``p5``, ``p50``, ``p95``; NaNs ignored."""
    return {f"p{float(p):g}": float(np.nanpercentile(values, p)) for p in q}
