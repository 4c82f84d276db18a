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
from functools import lru_cache

import numpy as np

from ._expm import expm_batched
from ._kernel import KERNEL_LOCK, kernel, propagate_generic
from ._linear import InputEvent, LinearSystem
from ._typing import BoolArray, FloatArray, IntArray
from .exceptions import InvalidInputError

GENERATED_KERNEL_MIN_WORK = 1_000_000
"""Calls with at least this many subject-steps get a kernel generated and compiled for their structure (a few
seconds, once per structure and machine); smaller ones use one generic kernel compiled once."""

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
    deltas_h: FloatArray
    run_start: IntArray  # nodes where a run of identical steps starts; last entry = final node
    run_delta: IntArray
    run_pattern: IntArray
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
    timing = tuple((e.time_h, e.duration_h) for e in events)
    return _cached_program(timing, times_h.tobytes())


@lru_cache(maxsize=32)
def _cached_program(timing: tuple[tuple[float, float], ...], times_bytes: bytes) -> _Program:
    out_ticks = _ticks(np.frombuffer(times_bytes, dtype=np.float64))
    starts = _ticks(np.array([t for t, _ in timing]))
    ends = _ticks(np.array([t + d for t, d in timing]))
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
    # Step lengths one or two ticks apart (rounding of absolute times) share one transition.
    unique_ticks = np.unique(step_ticks)
    group = np.zeros(unique_ticks.size, dtype=np.int64)
    first = 0
    for i in range(1, unique_ticks.size):
        if unique_ticks[i] - unique_ticks[first] > 2:
            first = i
        group[i] = group[i - 1] + (first == i)
    representative = [float(unique_ticks[group == k].mean()) for k in range(int(group.max(initial=-1)) + 1)]
    step_delta = group[np.searchsorted(unique_ticks, step_ticks)]
    infusions = np.flatnonzero(is_infusion)
    running = (starts[infusions][None, :] <= points[:-1, None]) & (ends[infusions][None, :] >= points[1:, None])
    keys = np.concatenate([step_delta[:, None], running], axis=1)
    step_pattern = np.full(step_ticks.size, -1, dtype=np.int64)
    patterns: list[tuple[int, tuple[int, ...]]] = []
    has_input = running.any(axis=1)
    if has_input.any():
        unique_keys, inverse = np.unique(keys[has_input], axis=0, return_inverse=True)
        step_pattern[has_input] = inverse.ravel()
        patterns = [(int(k[0]), tuple(int(infusions[j]) for j in np.flatnonzero(k[1:]))) for k in unique_keys]
    # Runs: maximal stretches of steps with one step length and one infusion pattern and no bolus
    # inside; a run starts at node 0, at every bolus and wherever the step changes.
    n_steps = step_ticks.size
    change = np.ones(n_steps, dtype=bool)
    if n_steps > 1:
        change[1:] = (step_delta[1:] != step_delta[:-1]) | (step_pattern[1:] != step_pattern[:-1])
        change[1:] |= node_bolus[1:n_steps] >= 0
    starts_at = np.flatnonzero(change)
    return _Program(
        run_start=np.append(starts_at, points.size - 1).astype(np.int64),
        run_delta=step_delta[starts_at].astype(np.int64),
        run_pattern=step_pattern[starts_at].astype(np.int64),
        node_bolus=node_bolus,
        node_out=node_out,
        deltas_h=np.asarray(representative, dtype=np.float64) * TIME_RESOLUTION_H,
        patterns=patterns,
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
    kernel_choice: str = "auto",
) -> tuple[FloatArray, IntArray]:
    """Concentrations (ng/mL) of every observed analyte at ``times_h``.

    Returns ``(conc, status)``: ``conc`` has shape ``(n_analytes, n_subjects, n_times)`` in the
    order of ``system.observed``; ``status`` holds a :class:`SubjectStatus` per subject. Pass
    ``out`` (same shape, float64) to reuse a buffer. ``kernel_choice``: ``auto`` (a generated kernel from
    ``GENERATED_KERNEL_MIN_WORK`` subject-steps on), ``generated`` or ``generic``.
    """
    times = check_times(times_h)
    if kernel_choice not in ("auto", "generated", "generic"):
        raise InvalidInputError("kernel_choice", f"got {kernel_choice!r}", "auto, generated, generic")
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

    # Van Loan: exp([[A, B], [0, 0]] dt) = [[exp(A dt), Phi(dt) B], [0, I]], with one column of B
    # per compartment that receives a zero-order input.
    inputs = sorted({events[k].compartment for _, running in program.patterns for k in running})
    column = {c: n + i for i, c in enumerate(inputs)}
    size = n + len(inputs)
    transitions = np.empty((n_subjects, program.deltas_h.size, rows.size))
    integrals = np.empty((n_subjects, program.deltas_h.size, n, len(inputs)))
    augmented = np.zeros((n_subjects, size, size))
    for c, j in column.items():
        augmented[:, c, j] = 1.0
    for d, dt in enumerate(program.deltas_h):
        scaled = augmented * dt
        scaled[:, :n, :n] = rate * dt
        block = expm_batched(scaled)
        transitions[:, d, :] = block[:, rows, cols]
        integrals[:, d] = block[:, :n, n:]

    infusion_terms = np.zeros((n_subjects, max(1, len(program.patterns)), n))
    for p, (d, running) in enumerate(program.patterns):
        for k in running:
            event = events[k]
            rate_mg_h = event.amount_mg / event.duration_h
            infusion_terms[:, p] += integrals[:, d, :, column[event.compartment] - n] * rate_mg_h[:, None]

    bolus_terms = np.zeros((n_subjects, max(1, len(program.bolus_groups)), n))
    for q, members in enumerate(program.bolus_groups):
        for k in members:
            bolus_terms[:, q, events[k].compartment] += events[k].amount_mg

    obs_cmt = tuple(int(c) for c, _ in system.observed.values())
    obs_scale = np.array([1000.0 / np.where(valid, v, 1.0) for _, v in system.observed.values()])
    finite = np.empty(n_subjects, dtype=bool)
    transitions = np.ascontiguousarray(transitions)
    program_arrays = (program.node_bolus, program.node_out, program.run_start, program.run_delta, program.run_pattern)
    work = n_subjects * program.node_out.size
    if kernel_choice == "generated" or (kernel_choice == "auto" and work >= GENERATED_KERNEL_MIN_WORK):
        propagate = kernel(n, tuple(int(r) for r in rows), tuple(int(c) for c in cols), obs_cmt)
        with KERNEL_LOCK:  # one parallel kernel at a time (numba's workqueue layer is not thread-safe)
            propagate(transitions, infusion_terms, bolus_terms, *program_arrays, obs_scale, out, finite)
    else:
        with KERNEL_LOCK:
            propagate_generic(transitions, infusion_terms, bolus_terms, rows, cols,
                              np.array(obs_cmt, dtype=np.int64), *program_arrays, obs_scale, out, finite)  # fmt: skip
    status = np.full(n_subjects, SubjectStatus.OK, dtype=np.int64)
    status[~finite] = SubjectStatus.NON_FINITE_RESULT
    status[~valid] = SubjectStatus.INVALID_PARAMETERS
    if np.any(status != SubjectStatus.OK):
        out[:, status != SubjectStatus.OK, :] = np.nan
    return out, status
