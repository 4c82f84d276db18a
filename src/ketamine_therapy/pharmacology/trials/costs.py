"""Session prices (USD) and cost per responder / remitter.

Defaults come from ``data/prices.yaml`` (sources there). An arm's sessions are priced by, in order:
its ``price_usd``; for esketamine nasal spray ``esketamine_session`` if set, else 28 mg devices x
``esketamine_device``; otherwise the price of its route. A placebo or midazolam arm without
``price_usd`` costs, per session, the mean session price of the trial's first active arm: a masked
control session takes the same visit, chair time and monitoring as the session it imitates (set
``price_usd: 0`` to price a control with no sessions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from .._data import load
from .._typing import FloatArray
from ..exceptions import InvalidInputError
from ..regimen import Route
from ..response import Arm
from .results import Estimate, estimate, wilson_interval

PRICE_KEYS = ("iv", "im", "intranasal", "sublingual", "oral", "rectal", "esketamine_device", "esketamine_session")
ESKETAMINE_DEVICE_MG = 28.0  # 56 mg = 2 devices, 84 mg = 3 (pharmacology.yaml trials.spravato_regimen.devices)


def default_prices() -> dict[str, float | None]:
    """Default price of each key (USD; ``None`` where no verified price exists)."""
    entries = load("prices.yaml")["prices"]
    return {key: None if entries[key]["value"] is None else float(entries[key]["value"]) for key in PRICE_KEYS}


def _price(prices: Mapping[str, float | None], key: str, what: str) -> float:
    price = prices[key]
    if price is None:
        allowed = "a price in USD per session under the spec's prices: or the arm's price_usd"
        raise InvalidInputError(f"prices.{key}", f"no default price for {what}", allowed)
    return price


def _active_prices(arm: Arm, prices: Mapping[str, float | None]) -> FloatArray:
    n = len(arm.days)
    assert arm.route is not None
    if arm.drug == "esketamine" and arm.route is Route.INTRANASAL:
        if prices["esketamine_session"] is not None:
            return np.full(n, prices["esketamine_session"])
        device = _price(prices, "esketamine_device", "esketamine nasal devices")
        doses = arm.doses_mg if arm.doses_mg is not None else (arm.dose_mg or 0.0,) * n
        return np.array([math.ceil(d / ESKETAMINE_DEVICE_MG - 1e-9) * device for d in doses])
    return np.full(n, _price(prices, arm.route.value, f"{arm.drug} sessions by {arm.route.value}"))


def session_prices(arms: Sequence[tuple[Arm, float | None]], prices: Mapping[str, float | None]) -> list[FloatArray]:
    """Price (USD) of each session of each ``(arm, price_usd override)``, in order."""
    given: list[FloatArray | None] = []
    for arm, override in arms:
        if override is not None:
            given.append(np.full(len(arm.days), override))
        else:
            given.append(_active_prices(arm, prices) if arm.is_active else None)
    reference = next((p for (arm, _), p in zip(arms, given, strict=True) if arm.is_active), None)
    result = []
    for i, ((arm, _), p) in enumerate(zip(arms, given, strict=True)):
        if p is None:
            if reference is None:
                raise InvalidInputError(f"arms[{i}].price_usd", "a control arm needs a price when no active arm "
                                        "sets one", "a price in USD per session >= 0")  # fmt: skip
            p = np.full(len(arm.days), float(reference.mean()))
        result.append(p)
    return result


def cost_until(prices_usd: FloatArray, session_times_h: FloatArray, time_h: float) -> float:
    """Cost per patient (USD) of the sessions that started at or before ``time_h``."""
    return float(prices_usd[session_times_h <= time_h + 1e-9].sum())


def cost_per_success(cost_per_patient_usd: float, successes: int, n: int) -> Estimate:
    """Cost per responder (or remitter): cost per patient / success rate, interval from Wilson's."""
    if successes == 0:
        return Estimate(None, (None, None))
    low, high = wilson_interval(successes, n)
    return estimate(cost_per_patient_usd * n / successes, cost_per_patient_usd / high,
                    cost_per_patient_usd / low if low > 0 else math.inf)  # fmt: skip
