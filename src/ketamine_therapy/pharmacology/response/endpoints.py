"""Trial endpoints computed from observed rating courses (definitions in docs/models/response.md)."""

from __future__ import annotations

import numpy as np

from .._typing import FloatArray
from .course import ArmCourse


def _at(course: ArmCourse, time_h: float) -> FloatArray:
    k = int(np.argmin(np.abs(course.times_h - time_h)))
    return np.asarray(course.madrs[:, k])


def response_rate(course: ArmCourse, time_h: float) -> FloatArray:
    """Per patient: 1 if MADRS fell by >= 50% from baseline at ``time_h``, else 0."""
    return (_at(course, time_h) <= 0.5 * course.baseline).astype(np.float64)


def remission_rate(course: ArmCourse, time_h: float, threshold: float) -> FloatArray:
    """Per patient: 1 if MADRS <= ``threshold`` at ``time_h`` (10 or 12 by convention), else 0."""
    return (_at(course, time_h) <= threshold).astype(np.float64)


def change_from_baseline(course: ArmCourse, time_h: float) -> FloatArray:
    """Per patient: MADRS change from baseline at ``time_h`` (negative = better)."""
    return _at(course, time_h) - course.baseline


def time_to_relapse_days(
    course: ArmCourse, from_h: float, confirm: int = 2, remission_threshold: float | None = None
) -> tuple[FloatArray, FloatArray]:
    """Days from ``from_h`` until response is lost, for patients in response at ``from_h`` (or, with
    ``remission_threshold``, for patients in remission, score <= threshold, at ``from_h``).

    The course's times after ``from_h`` are the follow-up visits. Relapse = score above 50% of baseline at
    ``confirm`` consecutive visits (SUSTAIN-1 confirmed relapse on two consecutive assessments); its day is the
    first of them. Returns ``(days, event)`` for responders only; ``event`` is 0 where no confirmed relapse
    happened by the last visit (censored there).
    """
    start = int(np.argmin(np.abs(course.times_h - from_h)))
    responding = course.madrs[:, start] <= 0.5 * course.baseline
    if remission_threshold is not None:
        responding = course.madrs[:, start] <= remission_threshold
    later = course.madrs[responding, start:] > 0.5 * course.baseline[responding, None]
    confirmed = later[:, : later.shape[1] - confirm + 1].copy() if later.shape[1] >= confirm else later[:, :0]
    for k in range(1, confirm):
        confirmed &= later[:, k : k + confirmed.shape[1]]
    relapsed = confirmed.any(axis=1)
    first = np.where(relapsed, confirmed.argmax(axis=1), later.shape[1] - 1)
    days = (course.times_h[start + first] - course.times_h[start]) / 24.0
    return np.asarray(days, dtype=np.float64), np.asarray(relapsed, dtype=np.float64)


def kaplan_meier_median(days: FloatArray, event: FloatArray) -> float:
    """Kaplan-Meier median of ``days`` with right censoring (inf if never reached)."""
    order = np.argsort(days, kind="stable")
    t, e = days[order], event[order]
    at_risk = np.arange(t.size, 0, -1, dtype=np.float64)
    survival = np.cumprod(np.where(e > 0, 1.0 - 1.0 / at_risk, 1.0))
    below = np.flatnonzero(survival <= 0.5 + 1e-9)
    return float(t[below[0]]) if below.size else float("inf")
