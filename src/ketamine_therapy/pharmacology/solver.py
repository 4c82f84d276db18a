"""Exact solution of batched linear compartment systems with bolus and zero-order inputs.

Between consecutive breakpoints (output times, dose starts, infusion ends) the state moves by
``x(t + dt) = exp(A dt) x(t) + Phi(dt) r`` with ``Phi(dt) = integral_0^dt exp(A s) ds`` and ``r``
the infusion rates running over that step. Both come from one matrix exponential of the augmented
matrix ``[[A, I], [0, 0]] dt`` (Van Loan), computed once per subject per distinct step length;
the compiled kernel then applies the steps. Results are exact up to floating-point rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from scipy.linalg import expm

from ._kernel import propagate
from ._linear import InputEvent, LinearSystem
from ._typing import BoolArray, FloatArray, IntArray
from .exceptions import InvalidInputError

TIME_RESOLUTION_H = 1e-10
"""Times closer than this are the same breakpoint."""


class SubjectStatus(IntEnum):
    """Outcome of one subject's simulation."""

    OK = 0
    INVALID_PARAMETERS = 1  # non-finite or non-positive parameters: outputs are NaN
    NON_FINITE_RESULT = 2  # the solution overflowed: outputs are NaN


@dataclass(frozen=True)
class _Program:
    node_bolus: IntArray
    node_out: IntArray
    step_delta: IntArray
    step_pattern: IntArray
    deltas_h: FloatArray
    patterns: list[tuple[int, tuple[int, ...]]]  # (delta index, running infusion event indices)
    bolus_groups: list[list[int]]  # event indices given at one breakpoint


def _ticks(times_h: FloatArray) -> IntArray:
    return np.rint(np.asarray(times_h, dtype=np.float64) / TIME_RESOLUTION_H).astype(np.int64)


def check_times(times_h: FloatArray) -> FloatArray:
    """Validate an output grid: 1-D, finite, >= 0, strictly increasing (h)."""
    times = np.asarray(times_h, dtype=np.float64)
    if times.ndim != 1 or times.size == 0:
        raise InvalidInputError("times_h", "must be a non-empty 1-D array", "1-D array of hours")
    if not np.all(np.isfinite(times)) or times[0] < 0:
        raise InvalidInputError("times_h", "must be finite and >= 0", ">= 0 h")
    if np.any(np.diff(_ticks(times)) <= 0):
        raise InvalidInputError("times_h", "must be strictly increasing", "increasing hours")
    return times


def _program(events: list[InputEvent], times_h: FloatArray) -> _Program:
    out_ticks = _ticks(times_h)
    starts = _ticks(np.array([e.time_h for e in events]))
    ends = _ticks(np.array([e.time_h + e.duration_h for e in events]))
    is_infusion = ends > starts
    points = np.unique(np.concatenate([out_ticks, starts, ends[is_infusion], [0]]))
    position = {int(t): i for i, t in enumerate(points)}

    node_out = np.full(points.size, -1, dtype=np.int64)
    node_out[[position[int(t)] for t in out_ticks]] = np.arange(out_ticks.size)

    groups: dict[int, list[int]] = {}
    for k, (t, inf) in enumerate(zip(starts, is_infusion, strict=True)):
        if not inf:
            groups.setdefault(position[int(t)], []).append(k)
    node_bolus = np.full(points.size, -1, dtype=np.int64)
    bolus_groups: list[list[int]] = []
    for node, members in sorted(groups.items()):
        node_bolus[node] = len(bolus_groups)
        bolus_groups.append(members)

    step_ticks = np.diff(points)
    unique_ticks, step_delta = np.unique(step_ticks, return_inverse=True)
    patterns: dict[tuple[int, tuple[int, ...]], int] = {}
    step_pattern = np.full(step_ticks.size, -1, dtype=np.int64)
    infusions = np.flatnonzero(is_infusion)
    for i in range(step_ticks.size):
        running = tuple(int(k) for k in infusions if starts[k] <= points[i] and ends[k] >= points[i + 1])
        if running:
            key = (int(step_delta[i]), running)
            step_pattern[i] = patterns.setdefault(key, len(patterns))
    return _Program(
        node_bolus=node_bolus,
        node_out=node_out,
        step_delta=step_delta.astype(np.int64),
        step_pattern=step_pattern,
        deltas_h=unique_ticks.astype(np.float64) * TIME_RESOLUTION_H,
        patterns=list(patterns),
        bolus_groups=bolus_groups,
    )


def _reachability(matrix: FloatArray) -> tuple[IntArray, IntArray]:
    """(rows, cols) where exp(A t) can be non-zero: i reachable from j in the flow graph."""
    n = matrix.shape[-1]
    reach = np.any(matrix != 0.0, axis=0) | np.eye(n, dtype=bool)
    for _ in range(max(1, int(np.ceil(np.log2(n))) + 1)):
        reach = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
    rows, cols = np.nonzero(reach)
    return rows.astype(np.int64), cols.astype(np.int64)


def _valid_subjects(system: LinearSystem) -> BoolArray:
    ok = np.all(np.isfinite(system.rate_matrix), axis=(1, 2))
    for _, volume in system.observed.values():
        ok &= np.isfinite(volume) & (volume > 0)
    return np.asarray(ok)


def solve(
    system: LinearSystem,
    events: list[InputEvent],
    times_h: FloatArray,
    out: FloatArray | None = None,
) -> tuple[FloatArray, IntArray]:
    """Concentrations (ng/mL) of every observed analyte at ``times_h``.

    Returns ``(conc, status)``: ``conc`` has shape ``(n_analytes, n_subjects, n_times)`` in the
    order of ``system.observed``; ``status`` holds a :class:`SubjectStatus` per subject. Pass
    ``out`` (same shape, float64) to reuse a buffer.
    """
    times = check_times(times_h)
    n_subjects = system.n_subjects
    n = len(system.compartments)
    shape = (len(system.observed), n_subjects, times.size)
    if out is None:
        out = np.empty(shape)
    elif out.shape != shape or out.dtype != np.float64:
        raise InvalidInputError("out", f"has shape {out.shape}", f"float64 array of shape {shape}")

    valid = _valid_subjects(system)
    rate = np.where(valid[:, None, None], system.rate_matrix, 0.0)
    program = _program(events, times)
    rows, cols = _reachability(rate)

    transitions = np.empty((n_subjects, program.deltas_h.size, rows.size))
    integrals = np.empty((n_subjects, program.deltas_h.size, n, n))
    augmented = np.zeros((n_subjects, 2 * n, 2 * n))
    for d, dt in enumerate(program.deltas_h):
        augmented[:, :n, :n] = rate * dt
        augmented[:, :n, n:] = np.eye(n) * dt
        block = expm(augmented)
        transitions[:, d, :] = block[:, rows, cols]
        integrals[:, d] = block[:, :n, n:]

    infusion_terms = np.zeros((n_subjects, max(1, len(program.patterns)), n))
    for p, (d, running) in enumerate(program.patterns):
        rates = np.zeros((n_subjects, n))
        for k in running:
            event = events[k]
            rates[:, event.compartment] += event.amount_mg / event.duration_h
        infusion_terms[:, p] = np.einsum("sij,sj->si", integrals[:, d], rates)

    bolus_terms = np.zeros((n_subjects, max(1, len(program.bolus_groups)), n))
    for q, members in enumerate(program.bolus_groups):
        for k in members:
            bolus_terms[:, q, events[k].compartment] += events[k].amount_mg

    obs_cmt = np.array([c for c, _ in system.observed.values()], dtype=np.int64)
    obs_scale = np.array([1000.0 / np.where(valid, v, 1.0) for _, v in system.observed.values()])
    finite = np.empty(n_subjects, dtype=bool)
    propagate(
        transitions,
        infusion_terms,
        bolus_terms,
        rows,
        cols,
        program.node_bolus,
        program.node_out,
        program.step_delta,
        program.step_pattern,
        obs_cmt,
        obs_scale,
        out,
        finite,
    )
    status = np.full(n_subjects, SubjectStatus.OK, dtype=np.int64)
    status[~finite] = SubjectStatus.NON_FINITE_RESULT
    status[~valid] = SubjectStatus.INVALID_PARAMETERS
    if np.any(status != SubjectStatus.OK):
        out[:, status != SubjectStatus.OK, :] = np.nan
    return out, status
