"""Trial results: per-arm endpoint estimates with 95% intervals, and the mean MADRS course.

Intervals: proportions by the Wilson score interval, means by the normal approximation
(mean +/- 1.96 SD / sqrt(n)), Kaplan-Meier medians by a percentile bootstrap with a seeded generator,
Kaplan-Meier relapse proportions by Greenwood's formula, Cox hazard ratios by the Wald interval of the log.
A value that does not exist (a median never reached, a cost per responder with no responder) is
``None`` (JSON ``null``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._typing import FloatArray

Z95 = 1.959963984540054  # standard-normal 97.5% quantile
BOOTSTRAP_REPLICATES = 500


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval (``None`` where undefined or infinite)."""

    estimate: float | None
    ci95: tuple[float | None, float | None]

    def to_dict(self) -> dict[str, Any]:
        """``{"estimate": x, "ci95": [lo, hi]}``."""
        return {"estimate": self.estimate, "ci95": list(self.ci95)}

    def formatted(self, kind: str) -> tuple[str, str, str]:
        """Estimate, lower and upper bound as text in the unit of an endpoint ``kind`` (%, $, days or points)."""

        def one(x: float | None) -> str:
            if x is None:
                return "not reached" if kind == "time_to_relapse" else "–"
            if kind in ("response", "remission", "relapse_proportion"):
                return f"{100 * x:.1f}%"
            if kind == "hazard_ratio":
                return f"{x:.2f}"
            if kind.startswith("cost_"):
                return f"${x:,.0f}"
            return f"{x:.1f}" + (" d" if kind == "time_to_relapse" else "")

        return one(self.estimate), one(self.ci95[0]), one(self.ci95[1])


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def estimate(value: float, low: float, high: float) -> Estimate:
    """An :class:`Estimate` with non-finite values as ``None``."""
    return Estimate(_finite(value), (_finite(low), _finite(high)))


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion ``successes / n``."""
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


def proportion(indicator: FloatArray) -> Estimate:
    """Fraction of patients with ``indicator`` 1, with its Wilson interval."""
    n = int(indicator.size)
    successes = int(np.count_nonzero(indicator))
    return estimate(successes / n, *wilson_interval(successes, n))


def mean(values: FloatArray) -> Estimate:
    """Mean with the normal-approximation 95% interval (1.96 SD / sqrt(n); none for n = 1)."""
    centre = float(values.mean())
    if values.size < 2:
        return Estimate(centre, (None, None))
    half = Z95 * float(values.std(ddof=1)) / math.sqrt(values.size)
    return estimate(centre, centre - half, centre + half)


def km_medians(times: FloatArray, events: FloatArray, censored: FloatArray) -> FloatArray:
    """Kaplan-Meier medians from counts at distinct ``times``, one row per sample, ``(n_samples, n_times)``.

    The median is the first time survival is <= 0.5, with a 1e-9 tolerance so that an exact 0.5
    (e.g. 6/12) is not missed by rounding; inf if never reached. Events precede censorings at a time.
    """
    removed = np.cumsum(events + censored, axis=1)
    at_risk = removed[:, -1:] - removed + events + censored  # patients still followed at each time
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(np.where(events > 0, 1.0 - events / at_risk, 1.0), axis=1)
    below = survival <= 0.5 + 1e-9
    return np.where(below.any(axis=1), times[below.argmax(axis=1)], np.inf)


def km_median(days: FloatArray, event: FloatArray, rng: np.random.Generator) -> Estimate:
    """Kaplan-Meier median (days; ``event`` 1 = relapse, 0 = censored) with a percentile-bootstrap interval.

    A bootstrap resample of patients is a multinomial draw of counts over the distinct
    (time, relapsed or censored) cells, so each replicate costs O(distinct times).
    """
    m = int(days.size)
    if m == 0:
        return Estimate(None, (None, None))
    times, cell = np.unique(days, return_inverse=True)
    k = times.size
    counts = np.bincount(cell + k * (event == 0), minlength=2 * k)  # events at each time, then censorings
    centre = km_medians(times, counts[None, :k].astype(np.float64), counts[None, k:].astype(np.float64))[0]
    draws = rng.multinomial(m, counts / m, size=BOOTSTRAP_REPLICATES).astype(np.float64)
    replicates = km_medians(times, draws[:, :k], draws[:, k:])
    low = float(np.quantile(replicates, 0.025, method="lower"))
    high = float(np.quantile(replicates, 0.975, method="higher"))
    return estimate(float(centre), low, high)


def cox_log_hazard_ratio(days: FloatArray, event: FloatArray, group: FloatArray) -> tuple[float, float]:
    """Cox partial-likelihood log hazard ratio of ``group`` 1 vs 0 (Breslow ties) and its SE (observed information).

    ``days`` are event or censoring times, ``event`` 1 for an event. Returns ``(nan, nan)`` without events in both
    groups (no finite estimate).
    """
    times, cell = np.unique(days, return_inverse=True)
    k = times.size
    dead = event > 0
    d_all = np.bincount(cell[dead], minlength=k).astype(np.float64)
    d_one = np.bincount(cell[dead & (group > 0)], minlength=k).astype(np.float64)
    leaving_one = np.bincount(cell[group > 0], minlength=k).astype(np.float64)
    leaving_all = np.bincount(cell, minlength=k).astype(np.float64)
    at_risk_one = leaving_one[::-1].cumsum()[::-1]  # still followed at each time
    at_risk_zero = leaving_all[::-1].cumsum()[::-1] - at_risk_one
    if d_one.sum() == 0 or d_one.sum() == d_all.sum():
        return float("nan"), float("nan")
    beta = 0.0
    information = 1.0
    for _ in range(50):
        w = at_risk_one * np.exp(beta)
        share = w / (at_risk_zero + w)
        score = float(np.sum(d_one - d_all * share))
        information = float(np.sum(d_all * share * (1.0 - share)))
        step = score / information
        beta += step
        if abs(step) < 1e-10:
            break
    return beta, 1.0 / math.sqrt(information)


def hazard_ratio(days_a: FloatArray, event_a: FloatArray, days_b: FloatArray, event_b: FloatArray) -> Estimate:
    """Hazard ratio of relapse, arm a vs arm b (Cox, Breslow ties), with its Wald 95% interval."""
    days = np.concatenate([days_a, days_b])
    event = np.concatenate([event_a, event_b])
    group = np.concatenate([np.ones(days_a.size), np.zeros(days_b.size)])
    beta, se = cox_log_hazard_ratio(days, event, group)
    if not math.isfinite(beta):
        return Estimate(None, (None, None))
    return estimate(math.exp(beta), math.exp(beta - Z95 * se), math.exp(beta + Z95 * se))


def relapse_proportion(days: FloatArray, event: FloatArray, by_day: float) -> Estimate:
    """Kaplan-Meier probability of relapse by ``by_day`` (1 - survival), with a Greenwood 95% interval."""
    if days.size == 0:
        return Estimate(None, (None, None))
    times, cell = np.unique(days, return_inverse=True)
    k = times.size
    d = np.bincount(cell[event > 0], minlength=k).astype(np.float64)
    leaving = np.bincount(cell, minlength=k).astype(np.float64)
    at_risk = leaving[::-1].cumsum()[::-1]
    keep = times <= by_day
    hazard = d[keep] / at_risk[keep]
    survival = float(np.prod(1.0 - hazard))
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = float(
            np.sum(np.where(at_risk[keep] > d[keep], d[keep] / (at_risk[keep] * (at_risk[keep] - d[keep])), 0.0))
        )
    half = Z95 * survival * math.sqrt(greenwood)
    p = 1.0 - survival
    return estimate(p, max(p - half, 0.0), min(p + half, 1.0))


@dataclass(frozen=True)
class MeanCourse:
    """Mean and between-patient SD of MADRS (points) at ``days`` after the first dose."""

    days: FloatArray
    mean: FloatArray
    sd: FloatArray
    n: int

    def ci95(self) -> tuple[FloatArray, FloatArray]:
        """95% interval of the mean at each time (normal approximation)."""
        half = Z95 * self.sd / math.sqrt(self.n)
        return self.mean - half, self.mean + half

    def to_dict(self) -> dict[str, Any]:
        """Lists by time: days, mean, sd, and the 95% interval of the mean."""
        low, high = self.ci95()
        return {
            "days": self.days.tolist(),
            "mean": self.mean.tolist(),
            "sd": self.sd.tolist(),
            "ci95_low": low.tolist(),
            "ci95_high": high.tolist(),
        }


@dataclass(frozen=True)
class ArmResult:
    """One arm's endpoints, mean course and session prices."""

    name: str
    drug: str
    route: str | None
    pk_model: str | None
    n: int
    endpoints: dict[str, Estimate]
    course: MeanCourse
    session_prices_usd: tuple[float, ...] | None

    def to_dict(self) -> dict[str, Any]:
        """The arm's JSON object: ``n``, ``endpoints``, then descriptive extras."""
        return {
            "n": self.n,
            "endpoints": {key: value.to_dict() for key, value in self.endpoints.items()},
            "drug": self.drug,
            "route": self.route,
            "pk_model": self.pk_model,
            "session_prices_usd": None if self.session_prices_usd is None else list(self.session_prices_usd),
            "mean_course": self.course.to_dict(),
        }


@dataclass(frozen=True)
class TrialResult:
    """Every arm's results, in the spec's order, with the response-model version used."""

    name: str
    seed: int
    arms: tuple[ArmResult, ...]
    endpoint_kinds: dict[str, str]
    response_model_version: str

    def to_dict(self) -> dict[str, Any]:
        """``{"arms": {ARM: {"n", "endpoints": {ID: {"estimate", "ci95"}}, ...}}}``."""
        arms = {}
        for arm in self.arms:
            entry = arm.to_dict()
            entry["response_model_version"] = self.response_model_version
            arms[arm.name] = entry
        return {"arms": arms}
