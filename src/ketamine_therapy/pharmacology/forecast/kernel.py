"""The response model evaluated for many (random effects, population parameters) pairs at once.

Each draw ``i`` carries its own population parameter set (one of the shipped calibration draws), its own random
effects ``eta[i]`` and its own covariate node (stimulus and age). The per-draw effects come from the response model's
own :func:`~..response.parameters.patient_effects`, :func:`~..response.parameters.session_kick` etc. applied to a
*stacked* parameter set (each field an array over draws), and the course from its compiled ``course_one``, so this
module adds no model equation; ``tests/unit/test_forecast.py`` checks it against the public
:func:`~..response.likelihood.log_density_many`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numba
import numpy as np

from .._typing import FloatArray, IntArray
from ..response.course import course_one
from ..response.observation import log_prob_score, scale_table
from ..response.parameters import (
    ResponseParameters,
    kernel_constants,
    patient_effects,
    session_consolidation,
    session_kick,
)


@numba.njit(parallel=True, cache=False)
def _latent_many(  # type: ignore[no-untyped-def]
    times_h, session_h, kick, build, constants, baseline, emax, k_s, acute, placebo, background, start, out
):
    for i in numba.prange(out.shape[0]):
        course_one(times_h, session_h, kick[i], build[i], constants[i], baseline[i], emax[i], k_s[i], acute[i],
                   placebo[i], background[i], start, out[i])  # fmt: skip
    return out


@numba.njit(parallel=True, cache=False)
def _log_likelihood_many(  # type: ignore[no-untyped-def]
    obs_h, obs_value, codes, tables, session_h, kick, build, constants, baseline, emax, k_s, acute, placebo,
    background, start, out,
):  # fmt: skip
    for i in numba.prange(out.shape[0]):
        latent = np.empty(obs_h.shape[0])
        course_one(obs_h, session_h, kick[i], build[i], constants[i], baseline[i], emax[i], k_s[i], acute[i],
                   placebo[i], background[i], start, latent)  # fmt: skip
        total = 0.0
        for j in range(obs_h.shape[0]):
            total += log_prob_score(obs_value[j], latent[j], tables[i, codes[j]])
        out[i] = total
    return out


@dataclass(frozen=True)
class ParameterStack:
    """Population parameter sets (rows) as arrays per field."""

    values: dict[str, FloatArray]
    tables: FloatArray  # (n_sets, n_scales, 5): the rating model's scale table of each set

    @classmethod
    def of(cls, sets: list[ResponseParameters]) -> ParameterStack:
        """Stack ``sets``."""
        values = {f.name: np.array([getattr(s, f.name) for s in sets], dtype=np.float64) for f in fields(sets[0])}
        tables = np.stack([scale_table(s.madrs_sigma) for s in sets])
        return cls(values, tables)

    @cached_property
    def n(self) -> int:
        """Number of parameter sets."""
        return int(self.tables.shape[0])

    def select(self, index: IntArray, column: bool = False) -> ResponseParameters:
        """Parameter sets ``index`` as one :class:`ResponseParameters` whose fields are arrays ``(m,)`` (or
        ``(m, 1)`` with ``column``), for the response model's broadcasting functions."""
        shape = (-1, 1) if column else (-1,)
        chosen = {name: v[index].reshape(shape) for name, v in self.values.items()}
        return ResponseParameters(**chosen)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DrawInputs:
    """Everything the kernels need per draw (rows)."""

    kick: FloatArray  # (m, n_sessions)
    build: FloatArray
    constants: FloatArray  # (m, n_constants)
    tables: FloatArray  # (m, n_scales, 5)
    baseline: FloatArray
    emax: FloatArray
    decay_per_h: FloatArray
    expectancy: FloatArray
    placebo: FloatArray

    @property
    def m(self) -> int:
        """Number of draws."""
        return int(self.baseline.shape[0])


def draw_inputs(
    stack: ParameterStack,
    theta: IntArray,
    eta: FloatArray,
    stimulus: FloatArray,
    age_y: FloatArray,
    baseline_mean: float,
    baseline_sd: float,
) -> DrawInputs:
    """Per-draw inputs for parameter sets ``theta`` ``(m,)``, random effects ``eta`` ``(m, n_eta)``, session
    stimulus ``(m, n_sessions)`` and ages ``(m,)``."""
    flat = stack.select(theta)
    column = stack.select(theta, column=True)
    effects = patient_effects(flat, eta, age_y, baseline_mean, baseline_sd)
    m = theta.shape[0]
    return DrawInputs(
        kick=np.ascontiguousarray(np.broadcast_to(session_kick(stimulus, column), stimulus.shape)),
        build=np.ascontiguousarray(np.broadcast_to(session_consolidation(stimulus, column), stimulus.shape)),
        constants=np.ascontiguousarray(np.asarray(kernel_constants(flat)).reshape(-1, m).T),
        tables=np.ascontiguousarray(stack.tables[theta]),
        baseline=np.ascontiguousarray(effects.baseline),
        emax=np.ascontiguousarray(effects.drug_emax),
        decay_per_h=np.ascontiguousarray(effects.drug_decay_per_h),
        expectancy=np.ascontiguousarray(effects.expectancy),
        placebo=np.ascontiguousarray(effects.placebo),
    )


def log_likelihood_many(
    inputs: DrawInputs, session_h: FloatArray, obs_h: FloatArray, obs_value: FloatArray, codes: IntArray
) -> FloatArray:
    """log p(ratings | draw) for each draw (no prior term)."""
    out = np.empty(inputs.m)
    none = np.zeros(inputs.m)
    _log_likelihood_many(obs_h, obs_value, codes, inputs.tables, session_h, inputs.kick, inputs.build,
                         inputs.constants, inputs.baseline, inputs.emax, inputs.decay_per_h, inputs.expectancy,
                         inputs.placebo, none, -1.0, out)  # fmt: skip
    return out


def latent_many(inputs: DrawInputs, session_h: FloatArray, times_h: FloatArray) -> FloatArray:
    """Latent MADRS of each draw at ascending ``times_h``, ``(m, n_times)``."""
    out = np.empty((inputs.m, times_h.size))
    none = np.zeros(inputs.m)
    _latent_many(times_h, session_h, inputs.kick, inputs.build, inputs.constants, inputs.baseline, inputs.emax,
                 inputs.decay_per_h, inputs.expectancy, inputs.placebo, none, -1.0, out)  # fmt: skip
    return out
