"""Per-session stimulus of a real dosing history (typical PK for the patient's covariates), cached.

A session's stimulus is its effect-site NMDA occupancy integrated over ``STIMULUS_WINDOW_H`` or until the next dose
(the response model's definition, :mod:`..response.arms`). Doses at least ``WASHOUT_H`` apart do not overlap, so
each isolated dose is simulated alone and cached by (drug, route, amount, duration, covariates): a history of 20
identical sessions costs one PK run. Closer doses (a cluster) are simulated together.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .._typing import FloatArray
from ..exceptions import InvalidInputError
from ..pd import effect_site_name, nmda_occupancy
from ..population import Covariates as PKCovariates
from ..regimen import Dose as PKDose
from ..regimen import Regimen, parse_route
from ..response.arms import COARSE_STEP_H, FINE_STEP_H, FINE_WINDOW_H, STIMULUS_WINDOW_H, WASHOUT_H
from ..simulate import resolve_model, simulate
from .contract import Dose

# (weight kg, age y, female) of one patient, as the PK core takes them
PKKey = tuple[float, float, bool]
# per dose of a cluster: (time after the cluster's first dose h, amount mg, duration min)
ClusterKey = tuple[tuple[float, float, float], ...]


def check_dose(dose: Dose, index: int, covariates: PKKey) -> None:
    """Raise :class:`InvalidInputError` naming ``doses[index]`` if the PK core does not cover this dose."""
    field = f"doses[{index}]"
    try:
        model = resolve_model(None, dose.drug)
        pk_dose = _pk_dose(dose, 0.0)
        model.check_dose(pk_dose, np.array([covariates[0]]))
        model.check_covariates(_pk_covariates(covariates))
    except InvalidInputError as error:
        raise InvalidInputError(f"{field}.{error.field}", error.message, error.allowed) from None


def _pk_dose(dose: Dose, time_h: float) -> PKDose:
    return PKDose(time_h, parse_route(dose.route), amount_mg=dose.amount_mg, duration_h=dose.duration_min / 60.0)


def _pk_covariates(key: PKKey) -> PKCovariates:
    return PKCovariates.typical(weight_kg=key[0], age_y=key[1], female=key[2])


def _grid(starts: FloatArray, ends: FloatArray) -> FloatArray:
    """Fine after each dose, hourly elsewhere, containing every window's start and end."""
    end = float(ends.max())
    parts = [np.arange(0.0, end, COARSE_STEP_H), starts, ends]
    parts += [t + np.arange(0.0, FINE_WINDOW_H, FINE_STEP_H) for t in starts]
    grid = np.unique(np.round(np.concatenate(parts), 9))
    return np.asarray(grid[grid <= end], dtype=np.float64)


@lru_cache(maxsize=4096)
def _cluster_stimulus(drug: str, route: str, doses: ClusterKey, window_end_h: float, covariates: PKKey) -> FloatArray:
    """Stimulus of each dose of one cluster; ``window_end_h`` caps the last window (the next cluster's start)."""
    starts = np.array([d[0] for d in doses])
    ends = np.minimum(starts + STIMULUS_WINDOW_H, np.append(starts[1:], window_end_h))
    grid = _grid(starts, ends)
    model = resolve_model(None, drug)
    regimen = Regimen(
        tuple(
            PKDose(t, parse_route(route), amount_mg=amount, duration_h=minutes / 60.0) for t, amount, minutes in doses
        )
    )
    # checked at the central covariates (check_dose); other nodes of an unknown weight may take the same mg beyond the
    # validated mg/kg range, where the (linear) PK model is extrapolated
    result = simulate(
        regimen, grid, model=model, covariates=_pk_covariates(covariates), effect_sites=True, extrapolate=True
    )
    occupancy = nmda_occupancy({a: result.conc_ng_ml[effect_site_name(a)][0] for a in model.analytes}, model.drug)
    steps = 0.5 * (occupancy[1:] + occupancy[:-1]) * np.diff(grid)
    cumulative = np.concatenate([[0.0], np.cumsum(steps)])
    at = np.searchsorted(grid, np.round(starts, 9))
    until = np.searchsorted(grid, np.round(ends, 9))
    out = np.asarray(cumulative[until] - cumulative[at], dtype=np.float64)
    out.setflags(write=False)
    return out


def session_stimulus(doses: tuple[Dose, ...], covariates: PKKey) -> FloatArray:
    """Per dose (ascending times), the stimulus (occupancy x h) for a patient with ``covariates``."""
    out = np.zeros(len(doses))
    k = 0
    while k < len(doses):
        first = doses[k]
        j = k + 1
        while (
            j < len(doses)
            and doses[j].time_h - doses[j - 1].time_h < WASHOUT_H
            and (doses[j].drug, doses[j].route) == (first.drug, first.route)
        ):
            j += 1
        next_start = doses[j].time_h - first.time_h if j < len(doses) else np.inf
        key = tuple((round(d.time_h - first.time_h, 6), float(d.amount_mg), float(d.duration_min)) for d in doses[k:j])
        window = min(float(next_start), key[-1][0] + STIMULUS_WINDOW_H)
        out[k:j] = _cluster_stimulus(first.drug, first.route, key, round(window, 6), covariates)
        k = j
    return out
