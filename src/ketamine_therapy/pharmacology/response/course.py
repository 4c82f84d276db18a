"""Depression course of each patient from effect-site NMDA occupancy (compiled kernel).

Plasticity S (0-1): dS/dt = k_on D(t) (1 - S) - k_off S, with drive D = q^h / (1 + q^h),
q = occupancy / occupancy50; solved exactly on each grid interval with D at the interval's
mean occupancy. MADRS = M0 (1 - Emax S) (1 - acute) (1 - nonspecific) (1 - background).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .._typing import FloatArray


@dataclass(frozen=True)
class ArmCourse:
    """MADRS at the evaluation times, ``(n_patients, n_times)``, with the baseline of each patient."""

    times_h: FloatArray
    madrs: FloatArray
    baseline: FloatArray


@numba.njit(parallel=True, cache=True)
def plasticity(occupancy, grid_h, k_on, occupancy50, hill, k_off, eval_index, out):  # type: ignore[no-untyped-def]
    """Plasticity at the grid points ``eval_index`` for every patient (writes ``out``)."""
    n_patients, n_grid = occupancy.shape
    for i in numba.prange(n_patients):
        s = 0.0
        e = 0
        while e < eval_index.shape[0] and eval_index[e] == 0:
            out[i, e] = 0.0
            e += 1
        for j in range(n_grid - 1):
            q = 0.5 * (occupancy[i, j] + occupancy[i, j + 1]) / occupancy50
            qh = q**hill if q > 0.0 else 0.0
            rate_on = k_on * qh / (1.0 + qh)
            lam = rate_on + k_off[i]
            dt = grid_h[j + 1] - grid_h[j]
            if lam > 0.0:
                s_eq = rate_on / lam
                s = s_eq + (s - s_eq) * np.exp(-lam * dt)
            while e < eval_index.shape[0] and eval_index[e] == j + 1:
                out[i, e] = s
                e += 1
    return out


def logistic(x: FloatArray) -> FloatArray:
    """The logistic function."""
    return np.asarray(1.0 / (1.0 + np.exp(-x)))
