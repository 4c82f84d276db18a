"""Doses and regimens: route, amount (mg or mg/kg), start time, infusion duration.

Times are hours from the first dose (t = 0). Study day ``k`` starts at ``(k - 1) * 24`` h.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from ._typing import FloatArray
from .exceptions import InvalidInputError


class Route(StrEnum):
    """Routes of administration."""

    IV = "iv"
    IM = "im"
    INTRANASAL = "intranasal"
    SUBLINGUAL = "sublingual"
    ORAL = "oral"
    RECTAL = "rectal"


def parse_route(name: str) -> Route:
    """The :class:`Route` called ``name``; a clear error otherwise."""
    try:
        return Route(name.strip().lower())
    except ValueError:
        raise InvalidInputError("route", f"unknown route {name!r}", ", ".join(r.value for r in Route)) from None


@dataclass(frozen=True)
class Dose:
    """One administration.

    Exactly one of ``amount_mg`` or ``amount_mg_per_kg`` (ketamine base). ``duration_h`` > 0 makes
    an IV dose a constant-rate infusion; other routes take no duration.
    """

    time_h: float
    route: Route
    amount_mg: float | None = None
    amount_mg_per_kg: float | None = None
    duration_h: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.route, Route):
            object.__setattr__(self, "route", parse_route(str(self.route)))
        if (self.amount_mg is None) == (self.amount_mg_per_kg is None):
            raise InvalidInputError("dose", "give exactly one of amount_mg or amount_mg_per_kg", "one of the two")
        amount = self.amount_mg if self.amount_mg is not None else self.amount_mg_per_kg
        field = "dose_mg" if self.amount_mg is not None else "dose_mg_per_kg"
        if amount is None or not math.isfinite(amount) or amount <= 0:
            raise InvalidInputError(field, f"must be a positive number, got {amount}", "> 0")
        if not math.isfinite(self.time_h) or self.time_h < 0:
            raise InvalidInputError("time_h", f"must be >= 0, got {self.time_h}", ">= 0 h")
        if not math.isfinite(self.duration_h) or self.duration_h < 0:
            raise InvalidInputError("duration", f"must be >= 0, got {self.duration_h} h", ">= 0 (0 = bolus)")
        if self.duration_h > 0 and self.route is not Route.IV:
            raise InvalidInputError("duration", f"only IV doses can be infused (route {self.route.value})", "0")

    def amount_for(self, weight_kg: FloatArray) -> FloatArray:
        """Dose in mg for each subject, shape ``(n_subjects,)``."""
        if self.amount_mg is not None:
            return np.full(weight_kg.shape, self.amount_mg, dtype=np.float64)
        assert self.amount_mg_per_kg is not None
        return self.amount_mg_per_kg * weight_kg

    def at(self, time_h: float) -> Dose:
        """The same dose given at ``time_h``."""
        return replace(self, time_h=time_h)


@dataclass(frozen=True)
class Regimen:
    """An ordered sequence of doses."""

    doses: tuple[Dose, ...]

    def __post_init__(self) -> None:
        if not self.doses:
            raise InvalidInputError("regimen", "needs at least one dose", ">= 1 dose")
        object.__setattr__(self, "doses", tuple(sorted(self.doses, key=lambda d: d.time_h)))

    @classmethod
    def on_days(cls, dose: Dose, days: Iterable[int]) -> Regimen:
        """``dose`` repeated on study ``days`` (day 1 = first dose at t = 0)."""
        day_list = list(days)
        if not day_list:
            raise InvalidInputError("days", "needs at least one day", "comma-separated days >= 1")
        if any(d < 1 for d in day_list) or len(set(day_list)) != len(day_list):
            raise InvalidInputError("days", f"got {day_list}", "distinct whole days >= 1 (day 1 = first dose)")
        return cls(tuple(dose.at(dose.time_h + (d - 1) * 24.0) for d in sorted(day_list)))

    @property
    def routes(self) -> frozenset[Route]:
        """Routes used in the regimen."""
        return frozenset(d.route for d in self.doses)

    @property
    def end_h(self) -> float:
        """Time the last dose ends (h)."""
        return max(d.time_h + d.duration_h for d in self.doses)


IV_ACUTE_SERIES_DAYS = (1, 3, 5, 8, 10, 12)
"""Six infusions over 12 days, three a week (Murrough 2013 regimen; clinical.md)."""


def iv_acute_series(
    dose_mg_per_kg: float = 0.5,
    duration_min: float = 40.0,
    days: Sequence[int] = IV_ACUTE_SERIES_DAYS,
) -> Regimen:
    """IV racemic ketamine acute series: 0.5 mg/kg over 40 min on ``days``."""
    dose = Dose(0.0, Route.IV, amount_mg_per_kg=dose_mg_per_kg, duration_h=duration_min / 60.0)
    return Regimen.on_days(dose, days)


def spravato_trd_schedule(dose_mg: float = 84.0, weeks: int = 8, maintenance_every_weeks: int = 2) -> Regimen:
    """Spravato TRD label schedule (US PI): doses are whole 28 mg devices.

    Weeks 1-4 twice weekly (days 1 and 4 of each week; day 1 is always 56 mg), weeks 5-8 once
    weekly, week 9 on every ``maintenance_every_weeks`` weeks (1 or 2).
    """
    if dose_mg not in (56.0, 84.0):
        raise InvalidInputError("dose_mg", f"got {dose_mg}", "56 or 84 mg")
    if maintenance_every_weeks not in (1, 2):
        raise InvalidInputError("maintenance_every_weeks", f"got {maintenance_every_weeks}", "1 or 2")
    if weeks < 1:
        raise InvalidInputError("weeks", f"got {weeks}", ">= 1")
    days: list[int] = []
    for week in range(1, weeks + 1):
        first = (week - 1) * 7 + 1
        if week <= 4:
            days += [first, first + 3]
        elif week <= 8 or (week - 9) % maintenance_every_weeks == 0:
            days.append(first)
    doses = [Dose((d - 1) * 24.0, Route.INTRANASAL, amount_mg=56.0 if i == 0 else dose_mg) for i, d in enumerate(days)]
    return Regimen(tuple(doses))
