"""The contract every PK model in the registry fulfils."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._data import Parameter, parameters
from .._linear import InputEvent, LinearSystem
from .._typing import FloatArray
from ..exceptions import InvalidInputError
from ..population import Covariates
from ..regimen import Dose, Route

ParameterSet = dict[str, FloatArray]
"""Individual parameters by name, each of shape ``(n_subjects,)``."""


@dataclass(frozen=True)
class Residual:
    """Residual (observation) error of one analyte."""

    kind: str  # "proportional" or "log_normal"
    sd: float
    source: str


class PKModel(ABC):
    """A published population PK model: parameters as data, structure as code."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.id: str = data["id"]
        self.name: str = data["name"]
        self.drug: str = data["drug"]
        self.reference: str = " ".join(str(data["reference"]).split())
        self.population: str = str(data.get("population", ""))
        self.routes: tuple[Route, ...] = tuple(Route(r) for r in data["routes"])
        self.published: dict[str, Parameter] = parameters(data["parameters"])
        validity = data["validity"]
        self.weight_range_kg: tuple[float, float] = (float(validity["weight_kg"][0]), float(validity["weight_kg"][1]))
        self.age_range_y: tuple[float, float] = (float(validity["age_y"][0]), float(validity["age_y"][1]))

    # -- structure ---------------------------------------------------------------------------
    @property
    @abstractmethod
    def analytes(self) -> tuple[str, ...]:
        """Analytes the model predicts, in output order."""

    @property
    @abstractmethod
    def eta_names(self) -> tuple[str, ...]:
        """Names of the random effects, in the order of :attr:`omega`."""

    @property
    @abstractmethod
    def omega(self) -> FloatArray:
        """Covariance of the random effects (log scale unless a model says otherwise)."""

    @abstractmethod
    def individual_parameters(self, covariates: Covariates, eta: FloatArray) -> ParameterSet:
        """Parameters of each subject from covariates and random effects ``(n_subjects, n_eta)``."""

    @abstractmethod
    def system(self, params: ParameterSet, routes: frozenset[Route]) -> LinearSystem:
        """The linear system of each subject, with depots for ``routes``."""

    @abstractmethod
    def dose_events(
        self, dose: Dose, params: ParameterSet, covariates: Covariates, system: LinearSystem
    ) -> list[InputEvent]:
        """The inputs that ``dose`` puts into ``system``."""

    @abstractmethod
    def dose_limit(self, dose: Dose) -> tuple[float, str, str]:
        """Upper validated dose for ``dose``'s route: ``(value, unit, basis)``; unit mg or mg/kg."""

    @abstractmethod
    def residual(self, analyte: str) -> Residual:
        """Residual error model of ``analyte``."""

    # -- shared behaviour --------------------------------------------------------------------
    def sample_eta(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Random effects of ``n`` subjects, shape ``(n, n_eta)``."""
        return rng.multivariate_normal(np.zeros(len(self.eta_names)), self.omega, size=n, method="cholesky")

    def zero_eta(self, n: int) -> FloatArray:
        """Random effects of ``n`` typical subjects (all zero)."""
        return np.zeros((n, len(self.eta_names)))

    def check_dose(self, dose: Dose, weight_kg: FloatArray, extrapolate: bool = False) -> None:
        """Raise :class:`InvalidInputError` if the route is not modelled or the dose too high."""
        if dose.route not in self.routes:
            raise InvalidInputError(
                "route",
                f"{dose.route.value} is not modelled for {self.drug} by {self.id}",
                ", ".join(r.value for r in self.routes),
            )
        self._check_dose_form(dose)
        if extrapolate:
            return
        limit, unit, basis = self.dose_limit(dose)
        per_kg = dose.amount_for(weight_kg) / weight_kg
        amount = per_kg if unit == "mg/kg" else dose.amount_for(weight_kg)
        if np.any(amount > limit * (1 + 1e-9)):
            field = "dose_mg_per_kg" if dose.amount_mg_per_kg is not None else "dose_mg"
            raise InvalidInputError(
                field,
                f"{float(np.max(amount)):g} {unit} by {dose.route.value} is above the validated range of "
                f"{self.id} ({basis}); pass extrapolate=True (CLI: --extrapolate) to simulate anyway",
                f"<= {limit:g} {unit}",
            )

    def _check_dose_form(self, dose: Dose) -> None:  # noqa: B027 - optional hook, no check by default
        """Model-specific checks of a dose's form (e.g. whole nasal devices)."""

    def check_covariates(self, covariates: Covariates, extrapolate: bool = False) -> None:
        """Raise if subjects are outside the population the model was built on."""
        if extrapolate:
            return
        for field, values, (low, high), unit in (
            ("weight_kg", covariates.weight_kg, self.weight_range_kg, "kg"),
            ("age_y", covariates.age_y, self.age_range_y, "years"),
        ):
            if np.any((values < low) | (values > high)):
                raise InvalidInputError(
                    field,
                    f"{self.id} was built on {low:g}-{high:g} {unit}; pass extrapolate=True "
                    "(CLI: --extrapolate) to simulate outside it",
                    f"{low:g}-{high:g} {unit}",
                )

    def typical_parameters(self, covariates: Covariates | None = None) -> ParameterSet:
        """Parameters of typical subjects (random effects zero)."""
        cov = covariates or Covariates.typical()
        return self.individual_parameters(cov, self.zero_eta(cov.n))
