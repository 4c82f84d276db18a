"""Covariates of simulated subjects and how to sample them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._typing import BoolArray, FloatArray
from .exceptions import InvalidInputError

WEIGHT_RANGE_KG = (2.0, 300.0)
AGE_RANGE_Y = (0.0, 120.0)


def _check_range(field: str, values: FloatArray, low: float, high: float, unit: str) -> None:
    if values.size and (not np.all(np.isfinite(values)) or values.min() < low or values.max() > high):
        bad = values[~np.isfinite(values) | (values < low) | (values > high)][0]
        raise InvalidInputError(field, f"got {bad:g} {unit}", f"{low:g}-{high:g} {unit}")


@dataclass(frozen=True)
class Covariates:
    """Per-subject covariates, each of shape ``(n_subjects,)``."""

    weight_kg: FloatArray
    age_y: FloatArray
    female: BoolArray
    asian: BoolArray
    japanese: BoolArray

    def __post_init__(self) -> None:
        n = self.weight_kg.shape[0]
        for name in ("age_y", "female", "asian", "japanese"):
            if getattr(self, name).shape != (n,):
                raise InvalidInputError(name, "must have one value per subject", f"shape ({n},)")
        if n < 1:
            raise InvalidInputError("n_subjects", "needs at least one subject", ">= 1")
        _check_range("weight_kg", self.weight_kg, *WEIGHT_RANGE_KG, "kg")
        _check_range("age_y", self.age_y, *AGE_RANGE_Y, "years")
        if np.any(self.japanese & ~self.asian):
            raise InvalidInputError("japanese", "Japanese subjects must also be flagged asian", "subset of asian")

    @property
    def n(self) -> int:
        """Number of subjects."""
        return int(self.weight_kg.shape[0])

    @classmethod
    def typical(
        cls,
        n: int = 1,
        weight_kg: float = 70.0,
        age_y: float = 40.0,
        female: bool = False,
        asian: bool = False,
        japanese: bool = False,
    ) -> Covariates:
        """``n`` identical subjects (default: a 70 kg, 40-year-old non-Asian man)."""
        if n < 1:
            raise InvalidInputError("n_subjects", f"got {n}", ">= 1")
        return cls(
            weight_kg=np.full(n, weight_kg, dtype=np.float64),
            age_y=np.full(n, age_y, dtype=np.float64),
            female=np.full(n, female),
            asian=np.full(n, asian or japanese),
            japanese=np.full(n, japanese),
        )

    def subset(self, index: slice | np.ndarray) -> Covariates:
        """The covariates of the subjects selected by ``index``."""
        return Covariates(
            self.weight_kg[index],
            self.age_y[index],
            self.female[index],
            self.asian[index],
            self.japanese[index],
        )


def sample_covariates(
    n: int,
    rng: np.random.Generator,
    weight_kg: tuple[float, float] = (80.0, 15.0),
    age_y: tuple[float, float] = (45.0, 12.0),
    female_fraction: float = 0.5,
    weight_limits_kg: tuple[float, float] = (40.0, 150.0),
    age_limits_y: tuple[float, float] = (18.0, 80.0),
) -> Covariates:
    """Sample ``n`` adults: weight and age normal (mean, sd) clipped to the limits."""
    if n < 1:
        raise InvalidInputError("n", f"got {n}", ">= 1")
    if not 0.0 <= female_fraction <= 1.0:
        raise InvalidInputError("female_fraction", f"got {female_fraction}", "0-1")
    weights = np.clip(rng.normal(weight_kg[0], weight_kg[1], n), *weight_limits_kg)
    ages = np.clip(rng.normal(age_y[0], age_y[1], n), *age_limits_y)
    female = rng.random(n) < female_fraction
    none = np.zeros(n, dtype=bool)
    return Covariates(weights, ages, female, none.copy(), none.copy())
